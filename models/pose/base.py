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


class PoseModelUnavailable(RuntimeError):
    """The weights a backend needs are not on this machine (the lead shows it as 'unavailable')."""


@dataclass(slots=True)
class Person:
    """One detected person, in ORIGINAL image pixels.

    keypoints: (17, 3) float32, columns x, y, confidence in [0, 1], COCO order.
    box: (4,) float32, x1, y1, x2, y2.
    score: detection confidence in [0, 1].
    """

    keypoints: np.ndarray
    box: np.ndarray
    score: float


@runtime_checkable
class PoseEstimator(Protocol):
    """Anything that turns one frame into the people in it."""

    def infer_2d(self, image: np.ndarray) -> list[Person]:
        """Every person in `image` (HxW gray, HxWx3 BGR or HxWx4 BGRA); empty when nobody is there."""
        ...
