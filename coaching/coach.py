"""One coached person's analysis across exercises: the entry point the live session calls.

`Coach` owns the analyzer of the current exercise, switches exercise when the person picks one
(or, in "auto" mode, when the recogniser is confident and stable), and keeps the session's
statistics fed with every event it returns, so `facts()` / `summary_lines()` are always current.
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np
from pydantic import BaseModel, Field

from coaching.analyzer import AnalyzerOptions, ExerciseAnalyzer
from coaching.events import Event, ExerciseChanged, r2
from coaching.exercises import EXERCISES
from coaching.recognition import ExerciseRecognizer, Recognition, RecognizerOptions
from coaching.session_stats import SessionStats

AUTO = "auto"


class Recognizer(Protocol):
    """What Coach needs from an exercise recogniser (coaching.recognition.ExerciseRecognizer fits)."""

    def update(self, keypoints: np.ndarray | None, width: int, height: int, t: float) -> Recognition | None:
        """A new stable decision, or None while nothing changes."""
        ...

    def reset(self) -> None: ...


class CoachOptions(BaseModel):
    analyzer: AnalyzerOptions = Field(default_factory=AnalyzerOptions)
    recognizer: RecognizerOptions = Field(default_factory=RecognizerOptions)


class Coach:
    """Analysis of one session. exercise: a name from EXERCISES, or "auto" to follow the recogniser.

    recognizer: None loads the trained one shipped in coaching/ (recognizer_params.npz); when that
    cannot be loaded, auto mode recognises nothing and `recognizer_error` says why.
    """

    def __init__(self, exercise: str = AUTO, options: CoachOptions | None = None,
                 recognizer: Recognizer | None = None) -> None:
        self.options = options or CoachOptions()
        self.recognizer_error: str | None = None
        if recognizer is None:
            try:
                recognizer = ExerciseRecognizer.load(options=self.options.recognizer)
            except (OSError, ValueError) as exc:
                self.recognizer_error = str(exc)
        self.recognizer = recognizer
        self.stats = SessionStats()
        self.mode = AUTO
        self.analyzer: ExerciseAnalyzer | None = None
        if exercise != AUTO:
            self._check(exercise)
            self.mode = "manual"
            self.analyzer = ExerciseAnalyzer(EXERCISES[exercise], self.options.analyzer)
            self.stats.observe([ExerciseChanged(t=0.0, exercise=exercise, previous=None, source="user")])

    @property
    def exercise(self) -> str | None:
        return None if self.analyzer is None else self.analyzer.spec.name

    @staticmethod
    def _check(exercise: str) -> None:
        if exercise not in EXERCISES:
            raise ValueError(f"unknown exercise {exercise!r}; known: {sorted(EXERCISES)} or {AUTO!r}")

    def choose(self, exercise: str, t: float) -> list[Event]:
        """The person picked an exercise (or "auto"): the current set ends, a new analyzer starts."""
        if exercise == AUTO:
            self.mode = AUTO
            if self.recognizer is not None:
                self.recognizer.reset()
            return []
        self._check(exercise)
        self.mode = "manual"
        return self._switch(exercise, t, "user", None)

    def _switch(self, exercise: str, t: float, source: str, confidence: float | None) -> list[Event]:
        events: list[Event] = []
        previous = self.exercise
        if previous == exercise:
            return events
        if self.analyzer is not None:
            events += self.analyzer.finish(t)
        self.analyzer = ExerciseAnalyzer(EXERCISES[exercise], self.options.analyzer)
        events.append(ExerciseChanged(t=t, exercise=exercise, previous=previous, source=source,  # type: ignore[arg-type]
                                      confidence=None if confidence is None else r2(confidence)))
        self.stats.observe(events)
        return events

    def update(self, keypoints: np.ndarray | None, width: int, height: int, t: float) -> list[Event]:
        """Feed one frame of the tracked subject (keypoints (17, 3) or None); the events it caused."""
        events: list[Event] = []
        if self.mode == AUTO and self.recognizer is not None:
            decision = self.recognizer.update(keypoints, width, height, t)
            if decision is not None and decision.exercise in EXERCISES:
                events += self._switch(decision.exercise, t, "recognizer", decision.confidence)
        if self.analyzer is not None:
            frame_events = self.analyzer.update(keypoints, width, height, t)
            self.stats.observe(frame_events)
            events += frame_events
        return events

    def finish(self, t: float) -> list[Event]:
        """Close the set in progress (session ending)."""
        if self.analyzer is None:
            return []
        events = self.analyzer.finish(t)
        self.stats.observe(events)
        return events

    def facts(self) -> dict[str, Any]:
        facts = self.stats.facts()
        facts["mode"] = self.mode
        facts["view"] = None if self.analyzer is None else self.analyzer.view
        return facts

    def summary_lines(self) -> list[str]:
        return self.stats.summary_lines()
