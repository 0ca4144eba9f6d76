"""The learned skeleton model's view of the person, frame by frame: what they do and how far into the rep.

`MotionModel` is the port: anything that reads recent keypoints and says which exercise (class
probabilities) and, for each exercise, each frame's rep progress (0 start position .. 1 turning
point) fits; models.action.SkeletonActionModel is the shipped one. `MotionTracker` keeps the
recent frames of the coached person and asks the model once per frame, so recognition and
counting read the same model at the same moment, live and for a recorded set alike.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from functools import cache
from typing import Protocol

import numpy as np

from coaching.smoothing import JOINT_HOLD_S, JointHold


class MotionOutput(Protocol):
    probabilities: np.ndarray
    """(classes,)"""
    progress: np.ndarray
    """(classes, window): each class's rep progress per tick, the newest last."""
    body_frames: int


class MotionModel(Protocol):
    """Reads the last `window` ticks of a `fps` clock ending at t; its progress output for a tick
    judges the tick `lookahead` ticks before it."""

    classes: list[str]
    fps: float
    window: int
    lookahead: int
    min_confidence: float
    """A joint below this confidence is missing from the model's input."""

    def featurise(self, keypoints: np.ndarray) -> np.ndarray:
        """(N, 17, 3) keypoints → (N, F) model input rows, one per frame."""
        ...

    def read(self, times: np.ndarray, features: np.ndarray, t: float) -> MotionOutput:
        """Recent frames' times (M,) and featurise()d rows (M, F); t: now."""
        ...


@dataclass(frozen=True, slots=True)
class MotionReading:
    """One frame's reading. probabilities is None when too little of the window held a body.
    progress is each exercise's rep progress at the moment progress_t, a little before t (the
    model's lookahead): the count reads the row of the exercise it counts."""

    t: float
    probabilities: dict[str, float] | None
    progress: dict[str, float] | None
    progress_t: float


@cache
def load_default_model() -> MotionModel:
    """The shipped model, loaded once per process and shared: it holds no per-person state and
    onnxruntime runs one session from several threads. Raises when it cannot load."""
    from models.action import SkeletonActionModel

    return SkeletonActionModel.load()


class MotionTracker:
    """Recent frames of one person (as model input rows, made once per frame) and the model's
    reading of each.

    min_body: fraction of the window's ticks that must hold a body before the class
    probabilities mean anything (a person walking in is not yet doing anything).
    joint_hold_s: a joint the pose model loses for up to this long is taken where it was last
    seen (`JointHold`): the model's input is scaled over each frame's visible joints.
    """

    def __init__(self, model: MotionModel, min_body: float = 0.35, joint_hold_s: float = JOINT_HOLD_S) -> None:
        self.model = model
        self.min_body = min_body
        self._span = model.window / model.fps + 0.5
        self._times: deque[float] = deque()
        self._frames: deque[np.ndarray] = deque()
        self._hold = JointHold(joint_hold_s, model.min_confidence)

    def reset(self) -> None:
        self._times.clear()
        self._frames.clear()
        self._hold.reset()

    def update(self, keypoints: np.ndarray | None, t: float) -> MotionReading:
        """Add this frame (None: nobody seen) and read the model at t."""
        if keypoints is not None:
            if self._times and t < self._times[-1]:
                self.reset()  # the clock went back: a new recording
            self._times.append(t)
            self._frames.append(self.model.featurise(self._hold(keypoints, t)[None])[0])
        while self._times and t - self._times[0] > self._span:
            self._times.popleft()
            self._frames.popleft()
        progress_t = t - self.model.lookahead / self.model.fps
        if not self._times:
            return MotionReading(t, None, None, progress_t)
        out = self.model.read(np.fromiter(self._times, float, len(self._times)), np.stack(self._frames), t)
        progress = {c: float(p) for c, p in zip(self.model.classes, out.progress[:, -1])}
        if out.body_frames < self.min_body * self.model.window:
            return MotionReading(t, None, progress, progress_t)
        probs = {c: float(p) for c, p in zip(self.model.classes, out.probabilities)}
        return MotionReading(t, probs, progress, progress_t)
