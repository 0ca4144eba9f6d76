"""The session's measured facts, for the voice responder and the end-of-set summary.

Fed with the analysis events, it keeps what a coach would quote: the exercise, reps this set
and in total, the last rep's depth and tempo, which faults showed up and how often, hold times.
`facts()` is a JSON-ready dict; `summary_lines()` says the same in short sentences that go into
the LLM prompt as "Measured facts", so the model quotes numbers instead of inventing them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from coaching.analyzer import PARTIAL_FAULT
from coaching.events import (
    Event,
    ExerciseChanged,
    FaultDetected,
    HoldProgress,
    RepCompleted,
    SetCompleted,
)
from coaching.exercises import EXERCISES
from coaching.measures import MEASURES


@dataclass
class _Totals:
    reps: int = 0
    sets: int = 0
    faults: Counter[str] = field(default_factory=Counter)
    best_hold_s: float = 0.0


def fault_title(exercise: str | None, fault: str) -> str:
    """Readable name of a fault id ("knees caving in")."""
    if fault == PARTIAL_FAULT:
        return "stopping short of a full rep"
    spec = EXERCISES.get(exercise or "")
    rule = spec.fault(fault) if spec else None
    return rule.title if rule else fault.replace("_", " ")


def plural(noun: str, n: int) -> str:
    """The noun for n of it: "rep" / "reps", "press" / "presses"."""
    return noun if n == 1 else f"{noun}es" if noun.endswith(("sh", "ch", "s", "x")) else f"{noun}s"


def counted(n: int, noun: str) -> str:
    """"1 rep", "3 reps": fact answers say these lines aloud and the LLM copies their wording."""
    return f"{n} {plural(noun, n)}"


def fault_list(exercise: str | None, faults: dict[str, int], reps: int) -> str:
    """"knees caving in 2 of 5 reps, hips sagging 3 times", most frequent first: rep faults out of
    the set's reps; cues during holds and stops short of a rep (not reps) as a number of times."""
    parts = []
    for f, n in Counter(faults).most_common():
        counted_in_reps = reps and f != PARTIAL_FAULT and n <= reps
        how = f"in {n} of {counted(reps, 'rep')}" if counted_in_reps else counted(n, "time")
        parts.append(f"{fault_title(exercise, f)} {how}")
    return ", ".join(parts)


def _title(exercise: str | None) -> str:
    spec = EXERCISES.get(exercise or "")
    return spec.title.lower() if spec else (exercise or "")


class SessionStats:
    """Running facts of one session across exercises and sets."""

    def __init__(self) -> None:
        self.exercise: str | None = None
        self.set_number = 1
        self.reps_in_set = 0
        self.set_faults: Counter[str] = Counter()
        self.hold_s = 0.0
        self.last_rep: RepCompleted | None = None
        self.last_set: SetCompleted | None = None
        self._totals: dict[str, _Totals] = {}

    def _tot(self, exercise: str) -> _Totals:
        return self._totals.setdefault(exercise, _Totals())

    def observe(self, events: Iterable[Event]) -> None:
        for e in events:
            self._observe(e)

    def _observe(self, e: Event) -> None:
        if isinstance(e, ExerciseChanged):
            self.exercise = e.exercise
            self.set_number = self._tot(e.exercise).sets + 1
            self.reps_in_set = 0
            self.set_faults = Counter()
            self.hold_s = 0.0
            self.last_rep = None
            return
        if self.exercise is None:
            self.exercise = e.exercise
        tot = self._tot(e.exercise)
        if isinstance(e, RepCompleted):
            self.last_rep = e
            self.set_number = e.set
            self.reps_in_set = e.rep_in_set
            tot.reps += 1
            self.set_faults.update(e.faults)
            tot.faults.update(e.faults)
        elif isinstance(e, FaultDetected) and e.rep is None:  # holds and partial reps (reps count above)
            self.set_faults[e.fault] += 1
            tot.faults[e.fault] += 1
        elif isinstance(e, HoldProgress):
            self.hold_s = e.seconds if e.in_position else 0.0
            tot.best_hold_s = max(tot.best_hold_s, e.seconds)
        elif isinstance(e, SetCompleted):
            self.last_set = e
            tot.sets += 1
            self.set_number = e.set + 1
            self.reps_in_set = 0
            self.set_faults = Counter()
            self.hold_s = 0.0

    # ---- read-outs ----------------------------------------------------------------------------

    def facts(self) -> dict[str, Any]:
        """Everything measured so far, JSON-ready."""
        ex = self.exercise
        tot = self._totals.get(ex or "", _Totals())
        return {
            "exercise": ex,
            "set": self.set_number,
            "reps_this_set": self.reps_in_set,
            "reps_total": tot.reps,
            "sets_completed": tot.sets,
            "hold_seconds": self.hold_s,
            "best_hold_seconds": tot.best_hold_s,
            "last_rep": None if self.last_rep is None else self.last_rep.model_dump(
                mode="json", include={"rep", "depth", "rom", "tempo", "faults", "duration_s", "view"}),
            "faults_this_set": dict(self.set_faults),
            "faults_total": dict(tot.faults),
            "last_set": None if self.last_set is None else self.last_set.model_dump(
                mode="json", exclude={"type", "t"}),
            "totals": {name: {"reps": t.reps, "sets": t.sets, "best_hold_seconds": t.best_hold_s}
                       for name, t in self._totals.items()},
        }

    def summary_lines(self) -> list[str]:
        """Short sentences of measured facts (empty when nothing has been measured)."""
        ex = self.exercise
        if ex is None:
            return []
        tot = self._totals.get(ex, _Totals())
        spec = EXERCISES.get(ex)
        lines = [f"Exercise: {_title(ex)}."]
        if spec is not None and spec.kind == "hold":
            if self.hold_s:
                lines.append(f"Holding now for {self.hold_s:.0f} seconds.")
            if tot.best_hold_s:
                lines.append(f"Longest hold this session: {tot.best_hold_s:.0f} seconds.")
        else:
            # One count a line, each saying what it counts (benchmarks/answers.py): sharing a line, the
            # small model added the set's reps to the total, and answered the total for "this set".
            lines.append(f"This set (set {self.set_number}): {counted(self.reps_in_set, 'rep')} so far.")
            if tot.reps != self.reps_in_set:
                lines.append(f"Total today: {counted(tot.reps, _title(ex) + ' rep')}, this set included.")
            if self.last_rep is not None:
                lines.append(self._rep_line(self.last_rep))
            else:
                lines.append("No rep seen yet: no depth or tempo measured.")
        if self.set_faults:
            lines.append("Faults this set: " + fault_list(ex, self.set_faults, self.reps_in_set) + ".")
        if self.last_set is not None and self.last_set.exercise == ex:
            s = self.last_set
            what = (f"held {s.hold_s:.0f} seconds" if s.hold_s is not None
                    else f"{counted(s.reps, 'rep')} in {s.duration_s:.0f} seconds")
            faults = fault_list(ex, s.faults, s.reps) if s.faults else "no faults seen"
            lines.append(f"Previous set (set {s.set}): {what}; {faults}.")
        others = [f"{_title(n)}: {counted(t.reps, 'rep')}" if EXERCISES.get(n) and EXERCISES[n].kind == "reps"
                  else f"{_title(n)}: best hold {t.best_hold_s:.0f} seconds"
                  for n, t in self._totals.items() if n != ex and (t.reps or t.best_hold_s)]
        if others:
            lines.append("Earlier this session: " + "; ".join(others) + ".")
        return lines

    def _rep_line(self, rep: RepCompleted) -> str:
        if rep.depth is not None:
            m = MEASURES[rep.depth.measure]
            depth = f"depth, {m.label} at the turning point {m.spoken(rep.depth.value)}"
        elif rep.rom.measure not in MEASURES:  # counted on the learned model's progress: no angle seen
            spec = EXERCISES.get(rep.exercise)
            depth = (f"depth not measured (a {rep.view} view does not show it: turn {' or '.join(spec.depth.views)}-on)"
                     if spec is not None and spec.depth is not None and spec.depth_hidden_from(rep.view)
                     else "depth not measured (the joints were not clear enough)")
        elif rep.rom.unit == "fraction of start":
            label = MEASURES[rep.rom.measure].label
            depth = f"{label} at the turning point {100 * rep.rom.min:.0f}% of the start position"
        else:
            m = MEASURES[rep.rom.measure]
            depth = f"{m.label} {m.spoken_range(rep.rom.min, rep.rom.max)}"
        tempo = (f"took {rep.duration_s:.1f} seconds, {rep.tempo.eccentric_s:.1f} s lowering and "
                 f"{rep.tempo.concentric_s:.1f} s lifting")
        faults = ", ".join(fault_title(rep.exercise, f) for f in rep.faults) or "no faults"
        return f"Last rep: {depth}; {tempo}; {faults}."
