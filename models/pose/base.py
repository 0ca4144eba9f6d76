"""What every pose backend returns, and the interface it is called through.

`Person` is a plain dataclass of numpy arrays, not a pydantic model: one is built per person per
frame on the hot path, and validation there would cost more than the post-processing itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

# The 17 COCO body joints, in the order every backend returns them.
COCO_KEYPOINTS: tuple[str, ...] = (
    "nose",
    "left_eye",
    "right_eye",
    "left_ear",
    "right_ear",
    "left_shoulder",
    "right_shoulder",
    "left_elbow",
    "right_elbow",
    "left_wrist",
    "right_wrist",
    "left_hip",
    "right_hip",
    "left_knee",
    "right_knee",
    "left_ankle",
    "right_ankle",
)
NUM_KEYPOINTS = len(COCO_KEYPOINTS)

# COCO-WholeBody's 133 keypoints (RTMW), as index ranges: the 17 body joints first, then 6 foot
# points (big toe, small toe, heel; left then right), 68 face points and 21 points per hand.
WHOLE_BODY_PARTS: dict[str, tuple[int, int]] = {
    "body": (0, 17),
    "feet": (17, 23),
    "face": (23, 91),
    "left_hand": (91, 112),
    "right_hand": (112, 133),
}
WHOLE_BODY_KEYPOINTS = 133


class PoseModelUnavailable(RuntimeError):
    """The weights a backend needs are not on this machine (the lead shows it as 'unavailable')."""


@dataclass(slots=True)
class Person:
    """One detected person, in ORIGINAL image pixels.

    keypoints: (17, 3) float32, columns x, y, confidence in [0, 1], COCO order.
    box: (4,) float32, x1, y1, x2, y2.
    score: detection confidence in [0, 1].
    whole_body: (133, 3) COCO-WholeBody keypoints (`WHOLE_BODY_PARTS`: feet for a heel lift, hands
        for the grip) from a whole-body model (RTMW); None from a body-only model. The coaching reads
        the 17 body joints; these are for whoever asks for more.
    """

    keypoints: np.ndarray
    box: np.ndarray
    score: float
    whole_body: np.ndarray | None = None

    def part(self, name: str) -> np.ndarray | None:
        """One part of the whole body (`WHOLE_BODY_PARTS`, e.g. "left_hand": (21, 3)); None without it."""
        if self.whole_body is None:
            return None
        start, end = WHOLE_BODY_PARTS[name]
        return self.whole_body[start:end]


@runtime_checkable
class PoseEstimator(Protocol):
    """Anything that turns one frame into the people in it."""

    def infer_2d(self, image: np.ndarray) -> list[Person]:
        """Every person in `image` (HxW gray, HxWx3 BGR or HxWx4 BGRA); empty when nobody is there.
        Those under the options' score_threshold (down to continue_score_threshold) are only for
        continuing someone already tracked."""
        ...


@runtime_checkable
class PersonRefiner(Protocol):
    """Reads one already found person's joints again, better (BlazePose on YOLO's people)."""

    def refine_person(self, image: np.ndarray, person: Person) -> Person:
        """`person` with refined keypoints (in `image`'s pixels), or as it came when it cannot be."""
        ...
