"""Which exercise is the person doing? A decision the coach can act on, from the learned model's readings.

The skeleton model (coaching.motion) gives class probabilities every frame over the last ~2 s.
A new exercise is announced once its mean probability over the last `stable_s` is high enough
and it has won most readings in that time (`min_share`); "other" (standing, walking, resting, a movement the
coach does not know) never changes the exercise, so a rest between sets does not reset the
coaching.

A short set can end before that bar is reached (a 2 s clip of two push-ups, a person who stops after
a rep or two): the online rule needs about 2.1 s. When a movement ends with nothing recognised (the
person pauses, or the recording or session ends), `settle` judges it whole: the mean over its
readings, at a lower bar (0.6), which no whole clip of a movement the coach does not know reached
on the development set (the highest was 0.54).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable

import numpy as np
from pydantic import BaseModel, Field

from coaching.motion import MotionReading

OTHER = "other"


class Recognition(BaseModel):
    """A recogniser's decision: this exercise, this sure (0-1)."""

    exercise: str
    confidence: float


class RecognizerOptions(BaseModel):
    """hop_s: how often a reading is taken into the vote. min_probability: the mean probability
    the winner needs over `stable_s`. min_share: the fraction of those readings it must top.
    settle_*: the same for a finished movement judged whole (`settle`), over at least settle_min_s
    of readings, leaving out up to its first settle_skip_s (readings made while the model's window
    held little of it) where the movement is long enough to spare them."""

    hop_s: float = Field(0.2, gt=0)
    min_probability: float = Field(0.7, ge=0, le=1)
    min_share: float = Field(0.8, ge=0, le=1)
    stable_s: float = Field(1.0, ge=0)
    settle_min_probability: float = Field(0.6, ge=0, le=1)
    settle_min_share: float = Field(0.6, ge=0, le=1)
    settle_min_s: float = Field(0.3, ge=0)
    settle_skip_s: float = Field(0.5, ge=0)


class ExerciseRecognizer:
    """Online recognition: feed readings with update(); a Recognition comes back when the exercise changes."""

    def __init__(self, options: RecognizerOptions | None = None) -> None:
        self.options = options or RecognizerOptions()
        self._votes: deque[tuple[float, dict[str, float]]] = deque()
        self._next_t: float | None = None
        self.current: str | None = None
        self.last_probabilities: dict[str, float] = {}

    def reset(self) -> None:
        self._votes.clear()
        self._next_t = None
        self.current = None
        self.last_probabilities = {}

    def update(self, reading: MotionReading) -> Recognition | None:
        t = reading.t
        if self._next_t is not None and t < self._next_t:
            return None
        self._next_t = t + self.options.hop_s
        if reading.probabilities is None:
            self._votes.clear()
            return None
        self.last_probabilities = {c: round(p, 3) for c, p in reading.probabilities.items()}
        self._votes.append((t, reading.probabilities))
        while self._votes and t - self._votes[0][0] > self.options.stable_s:
            self._votes.popleft()
        if t - self._votes[0][0] < self.options.stable_s - self.options.hop_s - 1e-6:
            return None
        return self._vote([v for _, v in self._votes], self.options.min_probability, self.options.min_share)

    def settle(self, readings: Iterable[tuple[float, dict[str, float] | None]]) -> Recognition | None:
        """A finished movement judged whole, when no online decision came in time: readings are
        (t, class probabilities or None) over the movement; None when no known exercise wins clearly."""
        timed = [(t, p) for t, p in readings if p]
        if not timed or timed[-1][0] - timed[0][0] < self.options.settle_min_s:
            return None
        skip = min(self.options.settle_skip_s, timed[-1][0] - timed[0][0] - self.options.settle_min_s)
        return self._vote([p for t, p in timed if t >= timed[0][0] + skip],
                          self.options.settle_min_probability, self.options.settle_min_share)

    def _vote(self, readings: list[dict[str, float]], min_probability: float, min_share: float) -> Recognition | None:
        """The class with the highest mean over these readings, when its mean reaches min_probability,
        it tops min_share of them, and it is a new exercise (not "other", not the current one)."""
        classes = sorted({c for p in readings for c in p})
        probs = np.array([[p.get(c, 0.0) for c in classes] for p in readings])
        mean = probs.mean(axis=0)
        k = int(np.argmax(mean))
        label = classes[k]
        share = float((probs.argmax(axis=1) == k).mean())
        if mean[k] < min_probability or share < min_share or label in (OTHER, self.current):
            return None
        self.current = label
        return Recognition(exercise=label, confidence=float(mean[k]))
