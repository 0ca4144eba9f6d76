"""One coached person's analysis across exercises: the entry point the live session calls.

`Coach` owns the analyzer of the current exercise, switches exercise when the person picks one
(or, in "auto" mode, when the recogniser is confident and stable), and keeps the session's
statistics fed with every event it returns, so `facts()` / `summary_lines()` are always current.

The learned skeleton model (coaching.motion) reads every frame: its class probabilities drive
recognition, its rep progress for the exercise being counted (a row per exercise) drives
counting. The model judges a frame's progress once it has seen 0.5 s more (its lookahead), so
frames reach the analyzer that much later (each with the progress of the reading that made it
due: one frame a reading at the camera's rate). Recognition needs a rep or so to be sure, so
recent frames are kept and, when an exercise is recognised, those since its movement began are
played through its new analyzer first: the reps done before the announcement are counted, not
lost. A movement that ends with nothing recognised (the person pauses, or the recording or
session ends) is judged whole (`Recognizer.settle`), so a set too short for the online decision is
still named and counted; a movement the model is less sure of is named when the exercise's own
joint-angle measure also moves as its reps do.

The exercise's own thresholds also watch for a rep the model is unsure of (`_watch`), so a set
need not pause to be named: while nothing is recognised and the last 6 s read as a consistent but
unsure candidate, and while a plank is coached (the model reads shallow push-ups, and the top
position a set starts from, as a plank: the push-up's). The first rep they count names that
exercise, and the set is replayed from where its movement began. A plank announced on frames
where the push-up's own measure goes down and up is announced as push-ups at once.
"""

from __future__ import annotations

import logging
import math
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
from pydantic import BaseModel, Field

from coaching.analyzer import AnalyzerOptions, ExerciseAnalyzer
from coaching.events import Event, ExerciseChanged, r2
from coaching.exercises import EXERCISES
from coaching.motion import MotionModel, MotionReading, MotionTracker, load_default_model
from coaching.recognition import (LOOK_ALIKE, OTHER, ExerciseRecognizer, Recognition, RecognizerOptions,
                                  exercise_probability, look_alike)
from coaching.session_stats import SessionStats

log = logging.getLogger(__name__)

AUTO = "auto"
_MOVING_OF = {still: moving for moving, still in LOOK_ALIKE.items()}  # plank -> push_up
_PLANK_LOOKBACK_S = 6.0  # how far back a plank decision looks for push-ups (their motion, a counted rep)
_CANDIDATE_EVERY_S = 1.0  # while nothing is recognised: how often the readings are judged for a candidate
_REPLAYED = ("rep_completed", "fault_detected", "set_completed")  # past phases and guidance are stale


class Recognizer(Protocol):
    """What Coach needs from an exercise recogniser (coaching.recognition.ExerciseRecognizer fits)."""

    def update(self, reading: MotionReading) -> Recognition | None:
        """A new stable decision, or None while nothing changes."""
        ...

    def settle(self, readings: Iterable[tuple[float, dict[str, float] | None]]) -> Recognition | None:
        """A finished movement's readings (t, probabilities) judged whole; None when unclear."""
        ...

    def settle_candidate(self, readings: Iterable[tuple[float, dict[str, float] | None]]) -> Recognition | None:
        """What an unclear finished movement most likely was, to be confirmed by the caller; or None."""
        ...

    def confirm(self, decision: Recognition) -> None:
        """A candidate from settle_candidate was confirmed: it is the current exercise now."""
        ...

    def reset(self) -> None: ...


class CoachOptions(BaseModel):
    """replay_s: at most this many seconds before a recognition are played through the new
    analyzer (a long steady set the model reads unsure, as RepCount-A squats at 0.5-0.6, is named
    only when it ends, 30-40 s in; replaying 30 s costs the vision thread ~0.2 s once, at 0.25 ms
    a frame; docs/REAL_PEOPLE.md). replay_break_s: a stretch this long where the model saw
    another known exercise ends what is replayed (those frames belong to that exercise).
    settle_pause_s: with nothing recognised, a pause this long (nobody seen, or the model sees no
    exercise) ends a movement, which is then judged whole. candidate_window_s: with nothing
    recognised, the last this many seconds are judged for a candidate whose own thresholds watch
    for a rep (0: none)."""

    analyzer: AnalyzerOptions = Field(default_factory=AnalyzerOptions)
    recognizer: RecognizerOptions = Field(default_factory=RecognizerOptions)
    replay_s: float = 30.0
    replay_break_s: float = 1.0
    settle_pause_s: float = Field(1.5, gt=0)
    candidate_window_s: float = Field(6.0, ge=0)


@dataclass(slots=True)
class _Frame:
    keypoints: np.ndarray | None
    width: int
    height: int
    t: float
    progress: dict[str, float] | None
    probabilities: dict[str, float] | None


class Coach:
    """Analysis of one session. exercise: a name from EXERCISES, or "auto" to follow the recogniser.

    motion: the learned skeleton model; None loads the shipped one (models/action). When it cannot
    be loaded, auto mode recognises nothing, reps are counted from the exercises' own angle
    thresholds, and `recognizer_error` says why. recognizer: None votes on the model's readings
    (coaching.recognition); tests script one.
    """

    def __init__(self, exercise: str = AUTO, options: CoachOptions | None = None,
                 motion: MotionModel | None = None, recognizer: Recognizer | None = None) -> None:
        self.options = options or CoachOptions()
        self.recognizer_error: str | None = None
        if motion is None:
            try:
                motion = load_default_model()
            except Exception as exc:  # noqa: BLE001 - any broken model file: count with the angle thresholds
                self.recognizer_error = str(exc)
                log.warning("skeleton action model unavailable: %s", exc)
        self.tracker = MotionTracker(motion) if motion is not None else None
        if recognizer is None and motion is not None:
            recognizer = ExerciseRecognizer(self.options.recognizer)
        self.recognizer = recognizer
        self.stats = SessionStats()
        self.mode = AUTO
        self.analyzer: ExerciseAnalyzer | None = None
        self._recent: deque[_Frame] = deque()
        self._pending: deque[tuple[np.ndarray | None, int, int, float]] = deque()
        self._switched_t = float("-inf")
        self._counted_until = float("-inf")  # the end of the last rep any analyzer counted
        self._settled_until = float("-inf")  # movement before this was judged whole already
        self._quiet_since: float | None = None  # the model has seen no exercise since then
        self._moved = False  # an exercise was seen since the last judgement
        # Auto mode: an exercise's own thresholds watching for its first rep (a candidate, or the
        # push-up beside a plank), and how sure the model was of it.
        self._watch: ExerciseAnalyzer | None = None
        self._watch_confidence = 0.0
        self._next_candidate_t = float("-inf")
        if exercise != AUTO:
            self._check(exercise)
            self.mode = "manual"
            self.analyzer = self._new_analyzer(exercise)
            self.stats.observe([ExerciseChanged(t=0.0, exercise=exercise, previous=None, source="user")])

    @property
    def exercise(self) -> str | None:
        return None if self.analyzer is None else self.analyzer.spec.name

    @staticmethod
    def _check(exercise: str) -> None:
        if exercise not in EXERCISES:
            raise ValueError(f"unknown exercise {exercise!r}; known: {sorted(EXERCISES)} or {AUTO!r}")

    def _new_analyzer(self, exercise: str) -> ExerciseAnalyzer:
        return ExerciseAnalyzer(EXERCISES[exercise], self.options.analyzer,
                                learned_counting=self.tracker is not None)

    def choose(self, exercise: str, t: float) -> list[Event]:
        """The person picked an exercise (or "auto"): the current set ends, a new analyzer starts."""
        if exercise == AUTO:
            self.mode = AUTO
            if self.recognizer is not None:
                self.recognizer.reset()
            return []
        self._check(exercise)
        self.mode = "manual"
        return self._drain() + self._switch(exercise, t, "user", None)

    def _switch(self, exercise: str, t: float, source: str, confidence: float | None,
                since: float | None = None) -> list[Event]:
        events: list[Event] = []
        if source == "recognizer" and exercise in _MOVING_OF:
            exercise = self._still_or_moving(exercise, t, since, confidence)
        previous = self.exercise
        if previous == exercise:
            return events
        if self.analyzer is not None:
            events += self.analyzer.finish(t)
        self.analyzer = self._new_analyzer(exercise)
        moving = _MOVING_OF.get(exercise)
        self._watch = None if moving is None or self.mode != AUTO else self._own_thresholds(moving)
        self._watch_confidence = 0.0
        events.append(ExerciseChanged(t=t, exercise=exercise, previous=previous, source=source,  # type: ignore[arg-type]
                                      confidence=None if confidence is None else r2(confidence)))
        if source == "recognizer":
            # Push-ups first coached as a plank: their frames are this set's, replayed too.
            floor = self._counted_until if previous is not None and look_alike(previous, exercise) \
                else max(self._switched_t, self._counted_until)
            events += self._replay(exercise, since, floor)
            if any(e.type == "rep_completed" for e in events):
                self._counted_until = t
        self._switched_t = t
        self.stats.observe(events)
        return events

    def _still_or_moving(self, still: str, t: float, since: float | None, confidence: float | None) -> str:
        """A plank was recognised: push-ups still under way (a rep counted, or one begun, in the
        last _PLANK_LOOKBACK_S) or a body that went down and up like a push-up in the frames the
        decision was made on (`since`, or the last _PLANK_LOOKBACK_S) make it push-ups. A shallow
        first push-up the model reads as a plank may still be settling when the plank is voted."""
        moving = _MOVING_OF[still]
        if self.exercise == moving:
            begun = self.analyzer.rep_since if self.analyzer is not None else None
            pushing = t - max(self._counted_until, float("-inf") if begun is None else begun) < _PLANK_LOOKBACK_S
        else:
            pushing = self._moves_like(moving, max(self._switched_t, t - _PLANK_LOOKBACK_S) if since is None else since,
                                       t + 1.0)
        if not pushing:
            return still
        assert self.recognizer is not None
        self.recognizer.confirm(Recognition(exercise=moving, confidence=confidence or 0.0))
        return moving

    def _replay(self, exercise: str, since: float | None, floor: float) -> list[Event]:
        """Play the frames since this exercise's movement began through its new analyzer: back at
        most replay_s, never to `floor` (the last switch or counted rep: frames of the previous
        exercise, reps counted already), nor past a stretch where the model saw another exercise;
        a movement judged whole (`since` its start) is replayed whole."""
        assert self.analyzer is not None
        frames = list(self._recent)
        start = len(frames)
        other_since: float | None = None
        for i in range(len(frames) - 1, -1, -1):
            f = frames[i]
            if f.t <= floor or (since is not None and f.t < since):
                break  # frames of the previous exercise, or reps already counted: never twice
            top = max(f.probabilities, key=f.probabilities.__getitem__) if f.probabilities else None
            if since is None and top not in (None, OTHER) and not look_alike(top, exercise):
                other_since = other_since if other_since is not None else f.t
                if other_since - f.t >= self.options.replay_break_s:
                    break
            else:
                other_since = None
                start = i
        events: list[Event] = []
        for f in frames[start:]:
            progress = _of(f.progress, exercise)
            events += [e for e in self.analyzer.update(f.keypoints, f.width, f.height, f.t, progress=progress,
                                                       exercising=_doing(f.probabilities, exercise))
                       if e.type in _REPLAYED]
        return events

    def update(self, keypoints: np.ndarray | None, width: int, height: int, t: float) -> list[Event]:
        """Feed one frame of the tracked subject (keypoints (17, 3) or None); the events it caused."""
        if not math.isfinite(t):
            return []
        if self._pending and t < self._pending[-1][3]:
            self._restart_clock()
        if self.tracker is None:
            reading = MotionReading(t, None, None, t)
            due = [(keypoints, width, height, t)]
        else:
            reading = self.tracker.update(keypoints, t)
            self._pending.append((keypoints, width, height, t))
            due = self._due(reading)
        events: list[Event] = []
        if self.mode == AUTO and self.recognizer is not None:
            decision = self.recognizer.update(reading)
            if decision is not None and decision.exercise in EXERCISES:
                events += self._switch(decision.exercise, t, "recognizer", decision.confidence)
            elif self.analyzer is None:
                events += self._settle_on_pause(reading)
            if self.analyzer is None and reading.probabilities:
                events += self._watch_candidate(t)
        for kp, w, h, ft in due:
            events += self._analyse(kp, w, h, ft, reading)
        return events

    def _settle_on_pause(self, reading: MotionReading) -> list[Event]:
        """Nothing recognised yet: when the person pauses after moving, judge that movement whole."""
        probs = reading.probabilities
        if probs and max(probs, key=probs.__getitem__) != OTHER:
            self._quiet_since, self._moved = None, True
            return []
        if self._quiet_since is None:
            self._quiet_since = reading.t
        if not self._moved or reading.t - self._quiet_since < self.options.settle_pause_s:
            return []
        self._moved = False
        return self._settle(reading.t, until=self._quiet_since)

    def _settle(self, t: float, until: float = math.inf) -> list[Event]:
        """Judge the movement since the last judgement (frames whose reading came before `until`)
        whole; a clear exercise is announced and its reps replayed."""
        assert self.recognizer is not None
        lookahead = 0.0 if self.tracker is None else self.tracker.model.lookahead / self.tracker.model.fps
        frames = [(f.t, f.probabilities) for f in self._recent
                  if self._settled_until < f.t and f.t + lookahead < until]
        self._settled_until = t
        decision = self.recognizer.settle(frames)
        if decision is None and (candidate := self.recognizer.settle_candidate(frames)) is not None \
                and self._moves_like(candidate.exercise, frames[0][0], until):
            self.recognizer.confirm(candidate)
            decision = candidate
        if not frames or decision is None or decision.exercise not in EXERCISES:
            return []
        return self._switch(decision.exercise, t, "recognizer", decision.confidence, since=frames[0][0])

    def _moves_like(self, exercise: str, since: float, until: float) -> bool:
        """The body moved the way the exercise moves in the frames from `since` (before `until`),
        not only the way the model half recognises: its own joint-angle thresholds count a rep, or
        its own measure goes toward the turning point by half their span and back
        (`ExerciseAnalyzer.moved_like_a_rep`: a shallow rep, a head-on push-up on a small video).
        A movement the model half takes for a squat but whose knees never bend is not one.
        Costs ~0.7 ms a frame here: at most ~0.6 s once (replay_s of frames at 30 fps), at the end
        of an unclear movement, when the person has paused."""
        spec = EXERCISES.get(exercise)
        if spec is None or spec.kind != "reps":
            return False
        analyzer = ExerciseAnalyzer(spec, self.options.analyzer, learned_counting=False, keep_frames=True)
        frames = [f for f in self._recent if since <= f.t < until]
        events = [e for f in frames for e in analyzer.update(f.keypoints, f.width, f.height, f.t)]
        if frames:
            events += analyzer.finish(frames[-1].t)
        return any(e.type == "rep_completed" for e in events) or analyzer.moved_like_a_rep()

    def _restart_clock(self) -> None:
        """The clock went back (a new recording on the same coach): what waits or was kept belongs
        to the old clock; the analyzer's set goes on."""
        self._pending.clear()
        self._recent.clear()
        self._switched_t = self._counted_until = self._settled_until = float("-inf")
        self._quiet_since, self._moved = None, False
        if self.tracker is not None:
            self.tracker.reset()
        if self._watch is not None:
            self._watch = self._own_thresholds(self._watch.spec.name)
        if self.recognizer is not None and self.mode == AUTO:
            self.recognizer.reset()

    def _analyse(self, keypoints: np.ndarray | None, width: int, height: int, t: float,
                 reading: MotionReading) -> list[Event]:
        """One frame, now that its progress is known, through the analyzer (and the replay memory)."""
        progress = reading.progress if keypoints is not None else None
        probs = reading.probabilities
        if self.mode == AUTO:
            self._recent.append(_Frame(keypoints, width, height, t, progress, probs))
            while self._recent and t - self._recent[0].t > self.options.replay_s:
                self._recent.popleft()
        else:
            self._recent.clear()
        if self._watch is not None and self._watch_counts(keypoints, width, height, t, probs):
            return self._name_watched(t, probs)  # replays this frame too
        if self.analyzer is None:
            return []
        doing = _doing(probs, self.analyzer.spec.name if self.mode == AUTO else None)
        events = self.analyzer.update(keypoints, width, height, t, progress=_of(progress, self.analyzer.spec.name),
                                      exercising=doing)
        self.stats.observe(events)
        if any(e.type == "rep_completed" for e in events):
            self._counted_until = t
        return events

    def _own_thresholds(self, exercise: str) -> ExerciseAnalyzer:
        return ExerciseAnalyzer(EXERCISES[exercise], self.options.analyzer, learned_counting=False)

    def _watch_candidate(self, t: float) -> list[Event]:
        """Nothing recognised: once a second, the last candidate_window_s judged for a consistent
        but unsure candidate; a new one is watched, its thresholds first fed those frames."""
        if t < self._next_candidate_t or not self.options.candidate_window_s:
            return []
        assert self.recognizer is not None
        self._next_candidate_t = t + _CANDIDATE_EVERY_S
        frames = [f for f in self._recent if f.t > max(self._settled_until, t - self.options.candidate_window_s)]
        candidate = self.recognizer.settle_candidate([(f.t, f.probabilities) for f in frames])
        if candidate is None or candidate.exercise not in EXERCISES or EXERCISES[candidate.exercise].kind != "reps":
            self._watch = None
            return []
        self._watch_confidence = candidate.confidence
        if self._watch is not None and self._watch.spec.name == candidate.exercise:
            return []
        self._watch = self._own_thresholds(candidate.exercise)
        if any(self._watch_counts(f.keypoints, f.width, f.height, f.t, f.probabilities) for f in frames):
            return self._name_watched(t, frames[-1].probabilities)
        return []

    def _watch_counts(self, keypoints: np.ndarray | None, width: int, height: int, t: float,
                      probabilities: dict[str, float] | None) -> bool:
        """One frame through the watching thresholds: did they count a rep (while the model says
        the person does that exercise, its look-alike included)?"""
        assert self._watch is not None
        exercising = _doing(probabilities, self._watch.spec.name)
        return any(e.type == "rep_completed"
                   for e in self._watch.update(keypoints, width, height, t, exercising=exercising))

    def _name_watched(self, t: float, probabilities: dict[str, float] | None) -> list[Event]:
        """The watched exercise counted a rep: it is the exercise now, its set replayed."""
        assert self._watch is not None and self.recognizer is not None
        exercise = self._watch.spec.name
        confidence = max(self._watch_confidence, exercise_probability(probabilities or {}, exercise))
        self.recognizer.confirm(Recognition(exercise=exercise, confidence=confidence))
        return self._switch(exercise, t, "recognizer", confidence)

    def _due(self, reading: MotionReading) -> list[tuple[np.ndarray | None, int, int, float]]:
        """The waiting frames whose progress this reading gives (those at or before its progress_t)."""
        due = []
        while self._pending and self._pending[0][3] <= reading.progress_t + 1e-6:
            due.append(self._pending.popleft())
        return due

    def _drain(self) -> list[Event]:
        """Analyse the frames still waiting for their progress, read as if the person then held
        still (the end of a recording, or an exercise chosen mid-set)."""
        events: list[Event] = []
        if self.tracker is None or not self._pending:
            return events
        last = next((kp for kp, *_ in reversed(self._pending) if kp is not None), None)
        step = 1.0 / self.tracker.model.fps
        tick = self._pending[-1][3]
        while self._pending:
            tick += step
            reading = self.tracker.update(last, tick)
            for kp, w, h, ft in self._due(reading):
                events += self._analyse(kp, w, h, ft, reading)
        return events

    def finish(self, t: float) -> list[Event]:
        """Close the set in progress (session ending)."""
        events = self._drain()
        if self.mode == AUTO and self.analyzer is None and self.recognizer is not None:
            events += self._settle(t)
        if self.analyzer is None:
            return events
        closing = self.analyzer.finish(t)
        self.stats.observe(closing)
        return events + closing

    def facts(self) -> dict[str, Any]:
        facts = self.stats.facts()
        facts["mode"] = self.mode
        facts["view"] = None if self.analyzer is None else self.analyzer.view
        return facts

    def summary_lines(self) -> list[str]:
        return self.stats.summary_lines()


def _of(progress: dict[str, float] | None, exercise: str) -> float | None:
    """The exercise's own row of the model's progress (None: no reading, or a model without it,
    whose count then rests on the exercise's own thresholds)."""
    return None if progress is None else progress.get(exercise)


def _doing(probabilities: dict[str, float] | None, exercise: str | None) -> float | None:
    """How sure the model is that the person does this exercise (auto mode: the one recognised,
    its still look-alike included), or any exercise at all (the person chose one, and may do it in
    a way the model knows less)."""
    if not probabilities:
        return None
    if exercise is not None and exercise in probabilities:
        return exercise_probability(probabilities, exercise)
    return 1.0 - probabilities.get(OTHER, 0.0)
