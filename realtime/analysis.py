"""One person's frames through pose, subject tracking and exercise analysis: the per-frame pipeline.

The live vision loop and the recorded-set command (`python -m realtime.analyze`) both use it, so a
recorded set is coached exactly as a live one would be.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from coaching.coach import Coach
from coaching.events import Event
from coaching.motion import MotionModel
from coaching.tracking import PersonLike, SubjectTracker
from models.pose import PersonRefiner, PoseEstimator, PoseOptions


@dataclass
class FrameResult:
    """What one frame produced, with the time each stage took (seconds)."""

    width: int
    height: int
    keypoints: np.ndarray | None
    """(17, 3) smoothed x, y (NaN where not visible) and confidence of the coached person, or None."""
    subject: int | None
    people: int
    """People in view: detections confident enough to start a track (`SubjectTracker.start_score`)."""
    events: list[Event]
    stages: dict[str, float] = field(default_factory=dict)

    def overlay_keypoints(self) -> list[tuple[float, float, float]] | None:
        """Keypoints as fractions of the frame (x, y) and confidence, 0 where not visible."""
        if self.keypoints is None:
            return None
        k = self.keypoints
        xy = np.nan_to_num(k[:, :2] / np.array([self.width, self.height], np.float32), nan=0.0)
        conf = np.where(np.isnan(k[:, 0]), 0.0, np.nan_to_num(k[:, 2], nan=0.0))
        return [(round(float(x), 4), round(float(y), 4), round(float(c), 3))
                for (x, y), c in zip(xy, conf, strict=True)]


class FrameAnalyzer:
    """Pose + tracking + coaching for one camera. Not thread-safe: one caller at a time."""

    def __init__(self, pose: PoseEstimator | None, exercise: str = "auto", motion: MotionModel | None = None,
                 refiner: PersonRefiner | None = None) -> None:
        """motion: the learned skeleton model (None: the shipped one, loaded once per process).
        refiner: reads the tracked person's joints again in each frame (BlazePose; the pose
        family's `PosePipeline.refiner`); the other people keep the pose model's."""
        self.tracker = SubjectTracker()
        self.pose = pose
        self.refiner = refiner
        self.coach = Coach(exercise=exercise, motion=motion)

    @property
    def pose(self) -> PoseEstimator | None:
        """The pose family, set again when it finishes loading after the session started. The
        tracker starts following someone from its options' score_threshold (without options: the
        defaults a recorded set's detections were made with)."""
        return self._pose

    @pose.setter
    def pose(self, pose: PoseEstimator | None) -> None:
        self._pose = pose
        options = getattr(pose, "options", None)
        self.tracker.start_score = (options if isinstance(options, PoseOptions) else PoseOptions()).score_threshold

    def process_image(self, image: np.ndarray, t: float) -> FrameResult:
        """A BGR (or gray/BGRA) frame at time `t` seconds: `detect`, then `process_detected`."""
        t0 = time.perf_counter()
        people = self.detect(image)
        pose_s = time.perf_counter() - t0
        result = self.process_detected(image, people, t)
        result.stages = {"pose": pose_s, **result.stages}
        return result

    def detect(self, image: np.ndarray) -> Sequence[PersonLike]:
        """Everyone the pose model finds in the frame. Reads no state of this analyzer, so the live
        loop runs it for the next frame while `process_detected` is still on this one."""
        pose = self.pose
        if pose is None:
            raise RuntimeError("no pose model is loaded")
        return pose.infer_2d(image)

    def process_detected(self, image: np.ndarray, people: Sequence[PersonLike], t: float) -> FrameResult:
        """A frame's detections (`detect`), in frame order: tracking, the tracked person's joints
        read again from the image by the refiner, and analysis."""
        height, width = image.shape[:2]
        refiner = self.refiner
        refine = None if refiner is None else \
            (lambda person: refiner.refine_person(image, person).keypoints)  # type: ignore[arg-type]
        return self.process_people(people, width, height, t, refine)

    def process_people(self, people: Sequence[PersonLike], width: int, height: int, t: float,
                       refine: Callable[[PersonLike], np.ndarray] | None = None) -> FrameResult:
        """One frame's detected people (from the pose model): tracking, the tracked person's joints
        read again (`refine`, timed as "refine"), and analysis. The accuracy benchmark replays
        stored detections through here, so a change to tracking is measured without running pose
        again."""
        t0 = time.perf_counter()
        refine_s = 0.0

        def timed(person: PersonLike) -> np.ndarray:
            nonlocal refine_s
            started = time.perf_counter()
            keypoints = refine(person)  # type: ignore[misc]
            refine_s = time.perf_counter() - started
            return keypoints

        subject = self.tracker.update(people, t, (width, height), None if refine is None else timed)
        t1 = time.perf_counter()
        keypoints = None if subject is None else subject.keypoints
        events = self.coach.update(keypoints, width, height, t)
        t2 = time.perf_counter()
        people_in_view = sum(person.score >= self.tracker.start_score for person in people)
        return FrameResult(width, height, keypoints, None if subject is None else subject.track_id, people_in_view,
                           events, {"tracking": t1 - t0 - refine_s, "refine": refine_s, "analysis": t2 - t1})

    def process_keypoints(self, keypoints: np.ndarray | None, width: int, height: int, t: float) -> list[Event]:
        """Keypoints already estimated (a sequence file): analysis only."""
        return self.coach.update(keypoints, width, height, t)

    def choose(self, exercise: str, t: float) -> list[Event]:
        return self.coach.choose(exercise, t)

    def finish(self, t: float) -> list[Event]:
        return self.coach.finish(t)
