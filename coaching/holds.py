"""Timing a held position (plank): in position or not, seconds held, faults while holding.

A hold survives a short break (a missed frame, a wobble out of the position) of up to
`grace_s`; faults are judged on the median of the last moment, so a sagging hip is cued when it
stays down, at most every `repeat_s` per fault.
"""

from __future__ import annotations

from collections import Counter, deque

from coaching.events import Event, FaultDetected, HoldProgress, PhaseChanged, SetCompleted, r2
from coaching.faults import FrameMeasures, judge_window
from coaching.spec import ExerciseSpec


class HoldTimer:
    """Hold state of one exercise whose spec has kind="hold"."""

    def __init__(self, spec: ExerciseSpec, fault_window_s: float, fault_repeat_s: float) -> None:
        if spec.hold is None:
            raise ValueError(f"{spec.name} is not a hold exercise")
        self.spec = spec
        self.hold = spec.hold
        self.fault_window_s = fault_window_s
        self.fault_repeat_s = fault_repeat_s
        self.holding = False
        self.set_number = 1
        self._start = 0.0
        self._last_in = 0.0
        self._next_progress = 0.0
        self._frames: deque[FrameMeasures] = deque()
        self._cued: dict[str, float] = {}
        self._faults: Counter[str] = Counter()

    @property
    def seconds(self) -> float:
        """Seconds held in the hold in progress (0 when not holding)."""
        return self._last_in - self._start if self.holding else 0.0

    def in_position(self, frame: FrameMeasures) -> bool:
        return frame.view in self.hold.views and all(c.holds(frame.values.get(c.measure))
                                                     for c in self.hold.conditions)

    def update(self, frame: FrameMeasures) -> list[Event]:
        t, name = frame.t, self.spec.name
        events: list[Event] = []
        if self.in_position(frame):
            if not self.holding:
                self.holding = True
                self._start = t
                self._next_progress = t + self.hold.progress_every_s
                self._frames.clear()
                events.append(PhaseChanged(t=t, exercise=name, phase="hold", previous=None, rep=0))
            self._last_in = t
            self._frames.append(frame)
            while self._frames and t - self._frames[0].t > self.fault_window_s:
                self._frames.popleft()
            if t >= self._next_progress:
                self._next_progress += self.hold.progress_every_s
                events.append(HoldProgress(t=t, exercise=name, seconds=r2(t - self._start), in_position=True))
            if t - self._start >= self.fault_window_s:
                events += self._faults_now(t)
        elif self.holding and t - self._last_in > self.hold.grace_s:
            events += self.finish(t)
        return events

    def _faults_now(self, t: float) -> list[Event]:
        events: list[Event] = []
        for v in judge_window(self.spec.faults, list(self._frames), {}):
            if t - self._cued.get(v.rule.id, float("-inf")) >= self.fault_repeat_s:
                self._cued[v.rule.id] = t
                self._faults[v.rule.id] += 1
                events.append(FaultDetected(t=t, exercise=self.spec.name, fault=v.rule.id, cue=v.rule.cue,
                                            rep=None, value=r2(v.value), threshold=r2(v.rule.threshold)))
        return events

    def finish(self, t: float) -> list[Event]:
        """End the hold in progress: its final time and a SetCompleted when it was long enough."""
        if not self.holding:
            return []
        self.holding = False
        held = self._last_in - self._start
        name = self.spec.name
        events: list[Event] = [PhaseChanged(t=t, exercise=name, phase="rest", previous="hold", rep=0)]
        if held >= self.hold.min_hold_s:
            events.append(HoldProgress(t=t, exercise=name, seconds=r2(held), in_position=False))
            events.append(SetCompleted(t=t, exercise=name, set=self.set_number, reps=0, duration_s=r2(held),
                                       hold_s=r2(held), faults=dict(self._faults)))
            self.set_number += 1
        self._faults = Counter()
        self._cued.clear()
        return events
