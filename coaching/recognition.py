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

Below that bar the model is often right but unsure: real squats and push-ups filmed by phones read
0.45-0.6, topping every reading. So do a few movements it does not know (a rope push-down read as
a squat at 0.59). `settle_candidate` names such a movement (at least 1.5 s, mean 0.45, topping 95%
of the readings, 0.2 ahead of the runner-up) only as a candidate: the coach announces it when the
exercise's own joint-angle measure also moves as its reps do in those frames: its thresholds count
a rep, or it goes half their span toward the turning point and back (`coaching.coach`).

A push-up and a plank share one body position and differ only in whether it moves; the per-frame
min-max scaled joints barely move in a shallow or fast push-up, so the model often splits such a
set between the two (a phone's 2 s clip of push-ups: push-up 0.45, plank 0.35). The vote counts
the plank's probability for the push-up when the push-up leads it (`LOOK_ALIKE`); a plank is still
announced only on its own, and the coach turns it into push-ups when the body goes down and up.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable

import numpy as np
from pydantic import BaseModel, Field

from coaching.motion import MotionReading

OTHER = "other"
# A moving exercise -> the still one the model reads a shallow or fast version of it as.
LOOK_ALIKE: dict[str, str] = {"push_up": "plank"}


def exercise_probability(probabilities: dict[str, float], exercise: str) -> float:
    """The model's probability that the person does this exercise, its still look-alike included."""
    return probabilities.get(exercise, 0.0) + probabilities.get(LOOK_ALIKE.get(exercise, ""), 0.0)


def look_alike(a: str, b: str) -> bool:
    """Whether the model reading `a` can mean the person does `b` (or the other way round)."""
    return a == b or LOOK_ALIKE.get(a) == b or LOOK_ALIKE.get(b) == a


class Recognition(BaseModel):
    """A recogniser's decision: this exercise, this sure (0-1)."""

    exercise: str
    confidence: float


class RecognizerOptions(BaseModel):
    """hop_s: how often a reading is taken into the vote. min_probability: the mean probability
    the winner needs over `stable_s`. min_share: the fraction of those readings it must top.
    settle_*: the same for a finished movement judged whole (`settle`), over at least settle_min_s
    of readings, leaving out up to its first settle_skip_s (readings made while the model's window
    held little of it) where the movement is long enough to spare them. candidate_*: the lower bar
    of `settle_candidate`, with the winner's lead over the runner-up (margin) and at least
    candidate_min_s of readings."""

    hop_s: float = Field(0.2, gt=0)
    min_probability: float = Field(0.7, ge=0, le=1)
    min_share: float = Field(0.8, ge=0, le=1)
    stable_s: float = Field(1.0, ge=0)
    settle_min_probability: float = Field(0.6, ge=0, le=1)
    settle_min_share: float = Field(0.6, ge=0, le=1)
    settle_min_s: float = Field(0.3, ge=0)
    settle_skip_s: float = Field(0.5, ge=0)
    candidate_min_probability: float = Field(0.45, ge=0, le=1)
    candidate_min_share: float = Field(0.95, ge=0, le=1)
    candidate_min_margin: float = Field(0.2, ge=0, le=1)
    candidate_min_s: float = Field(1.5, ge=0)


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
        o = self.options
        kept = self._whole(readings, o.settle_min_s)
        return None if kept is None else self._vote(kept, o.settle_min_probability, o.settle_min_share)

    def settle_candidate(self, readings: Iterable[tuple[float, dict[str, float] | None]]) -> Recognition | None:
        """What a finished movement that `settle` left unnamed most likely was, at the lower
        candidate bar; not yet the current exercise: the caller confirms it (`confirm`) once the
        movement is seen to be that exercise's."""
        o = self.options
        kept = self._whole(readings, o.candidate_min_s)
        return None if kept is None else self._vote(kept, o.candidate_min_probability, o.candidate_min_share,
                                                    o.candidate_min_margin, decide=False)

    def confirm(self, decision: Recognition) -> None:
        """A candidate was confirmed: it is the current exercise now."""
        self.current = decision.exercise

    def _whole(self, readings: Iterable[tuple[float, dict[str, float] | None]],
               min_s: float) -> list[dict[str, float]] | None:
        """The readings a whole movement is judged on (less up to its first settle_skip_s), or None
        when they span less than min_s."""
        timed = [(t, p) for t, p in readings if p]
        if not timed or timed[-1][0] - timed[0][0] < min_s:
            return None
        skip = min(self.options.settle_skip_s, timed[-1][0] - timed[0][0] - self.options.settle_min_s)
        return [p for t, p in timed if t >= timed[0][0] + skip]

    def _vote(self, readings: list[dict[str, float]], min_probability: float, min_share: float,
              min_margin: float = 0.0, decide: bool = True) -> Recognition | None:
        """The class with the highest mean over these readings, when its mean reaches min_probability
        and leads the runner-up's by min_margin, it tops min_share of them, and it is a new exercise
        (not "other", not the current one). Failing that, a moving exercise that leads its still
        look-alike wins with the two counted as one. decide: it becomes the current exercise."""
        classes = sorted({c for p in readings for c in p})
        probs = np.array([[p.get(c, 0.0) for c in classes] for p in readings])
        found = _clear_winner(classes, probs, min_probability, min_share, min_margin)
        for moving, still in LOOK_ALIKE.items():
            if found is not None or moving not in classes or still not in classes:
                continue
            i, j = classes.index(moving), classes.index(still)
            if probs[:, i].mean() < probs[:, j].mean():
                continue
            merged = probs.copy()
            merged[:, i] += merged[:, j]
            merged[:, j] = 0.0
            found = _clear_winner(classes, merged, min_probability, min_share, min_margin)
            found = found if found is not None and found[0] == moving else None
        if found is None or found[0] in (OTHER, self.current):
            return None
        label, mean = found
        if decide:
            self.current = label
        return Recognition(exercise=label, confidence=mean)


def _clear_winner(classes: list[str], probs: np.ndarray, min_probability: float, min_share: float,
                  min_margin: float) -> tuple[str, float] | None:
    """(class, mean) of the highest mean over these readings (rows), when it clears the bars."""
    mean = probs.mean(axis=0)
    k = int(np.argmax(mean))
    share = float((probs.argmax(axis=1) == k).mean())
    runner_up = float(np.sort(mean)[-2]) if len(mean) > 1 else 0.0
    if mean[k] < min_probability or mean[k] - runner_up < min_margin or share < min_share:
        return None
    return classes[k], float(mean[k])
