"""The COCO-17 body skeleton: joint names, indices, left/right pairs and the edges drawn between them.

Every pose model here (YOLO-pose, RTMPose) outputs this layout, so the coaching logic, the
recogniser and the demo overlay all index keypoints through these names instead of bare numbers.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Literal

Side = Literal["left", "right"]
SIDES: tuple[Side, Side] = ("left", "right")


class Joint(IntEnum):
    """Index of each COCO-17 keypoint in a (17, 3) array."""

    NOSE = 0
    LEFT_EYE = 1
    RIGHT_EYE = 2
    LEFT_EAR = 3
    RIGHT_EAR = 4
    LEFT_SHOULDER = 5
    RIGHT_SHOULDER = 6
    LEFT_ELBOW = 7
    RIGHT_ELBOW = 8
    LEFT_WRIST = 9
    RIGHT_WRIST = 10
    LEFT_HIP = 11
    RIGHT_HIP = 12
    LEFT_KNEE = 13
    RIGHT_KNEE = 14
    LEFT_ANKLE = 15
    RIGHT_ANKLE = 16


NUM_JOINTS = len(Joint)
JOINT_NAMES: tuple[str, ...] = tuple(j.name.lower() for j in Joint)

# Limbs as the COCO dataset draws them (0-based), torso first, then arms, legs and head.
EDGES: tuple[tuple[int, int], ...] = (
    (Joint.LEFT_SHOULDER, Joint.RIGHT_SHOULDER),
    (Joint.LEFT_SHOULDER, Joint.LEFT_HIP),
    (Joint.RIGHT_SHOULDER, Joint.RIGHT_HIP),
    (Joint.LEFT_HIP, Joint.RIGHT_HIP),
    (Joint.LEFT_SHOULDER, Joint.LEFT_ELBOW),
    (Joint.LEFT_ELBOW, Joint.LEFT_WRIST),
    (Joint.RIGHT_SHOULDER, Joint.RIGHT_ELBOW),
    (Joint.RIGHT_ELBOW, Joint.RIGHT_WRIST),
    (Joint.LEFT_HIP, Joint.LEFT_KNEE),
    (Joint.LEFT_KNEE, Joint.LEFT_ANKLE),
    (Joint.RIGHT_HIP, Joint.RIGHT_KNEE),
    (Joint.RIGHT_KNEE, Joint.RIGHT_ANKLE),
    (Joint.NOSE, Joint.LEFT_EYE),
    (Joint.NOSE, Joint.RIGHT_EYE),
    (Joint.LEFT_EYE, Joint.LEFT_EAR),
    (Joint.RIGHT_EYE, Joint.RIGHT_EAR),
    (Joint.LEFT_EAR, Joint.LEFT_SHOULDER),
    (Joint.RIGHT_EAR, Joint.RIGHT_SHOULDER),
)

# Index permutation that swaps every left joint with its right twin (mirroring a pose).
FLIP_INDEX: tuple[int, ...] = (0, 2, 1, 4, 3, 6, 5, 8, 7, 10, 9, 12, 11, 14, 13, 16, 15)


def joint(part: str, side: Side) -> Joint:
    """The joint of `part` ("shoulder", "elbow", "wrist", "hip", "knee", "ankle", "eye", "ear") on `side`."""
    return Joint[f"{side}_{part}".upper()]


def edges_as_lists() -> list[list[int]]:
    """EDGES as plain JSON-friendly lists (for clients that draw the skeleton)."""
    return [[int(a), int(b)] for a, b in EDGES]
