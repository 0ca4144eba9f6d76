"""Joint angles and positions a coach can use, from one frame of lifted 3D joints.

Angles between limbs do not depend on where the camera stands, which is the point of lifting to
3D: a knee angle read off the 2D image shrinks when the thigh points at the camera, the 3D one does
not. Measures that refer to "vertical" (trunk lean, squat depth) take it from `up`.

Axes: MotionBERT's output keeps the image's axes, x to the right, y DOWN, z away from the camera,
so up is (0, -1, 0) when the camera is level; pass another `up` for a tilted camera.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from models.lifting.joints import H36M

UP = np.array([0.0, -1.0, 0.0])


@dataclass(frozen=True)
class Measures3D:
    """One frame's measures. Angles in degrees; lengths in the person's own limb lengths."""

    knee_angle_left: float  # between thigh and shin: 180 straight, smaller as the knee bends
    knee_angle_right: float
    hip_angle_left: float  # between trunk (hip -> same-side shoulder) and thigh: 180 standing
    hip_angle_right: float
    trunk_lean: float  # pelvis -> thorax from vertical: 0 upright, 90 horizontal
    squat_depth: float  # hip height above the knee in thigh lengths, mean of sides: 1 standing, 0 parallel, < 0 below
    knee_inward_left: float  # knee off the hip-ankle line, sideways, in shin lengths: + inward (valgus), - outward
    knee_inward_right: float


def measure(joints: np.ndarray, up: np.ndarray = UP) -> Measures3D:
    """Measures of one (17, 3) frame of Human3.6M joints, as MotionLifter returns them."""
    j = np.asarray(joints, dtype=np.float64)
    if j.shape != (17, 3):
        raise ValueError(f"expected (17, 3) Human3.6M joints, got {j.shape}")
    up = np.asarray(up, dtype=np.float64) / np.linalg.norm(up)
    hip_l, hip_r = j[H36M["left_hip"]], j[H36M["right_hip"]]
    knee_l, knee_r = j[H36M["left_knee"]], j[H36M["right_knee"]]
    ankle_l, ankle_r = j[H36M["left_ankle"]], j[H36M["right_ankle"]]
    shoulder_l, shoulder_r = j[H36M["left_shoulder"]], j[H36M["right_shoulder"]]
    depth = [np.dot(hip - knee, up) / np.linalg.norm(hip - knee) for hip, knee in ((hip_l, knee_l), (hip_r, knee_r))]
    return Measures3D(
        knee_angle_left=_angle(hip_l - knee_l, ankle_l - knee_l),
        knee_angle_right=_angle(hip_r - knee_r, ankle_r - knee_r),
        hip_angle_left=_angle(shoulder_l - hip_l, knee_l - hip_l),
        hip_angle_right=_angle(shoulder_r - hip_r, knee_r - hip_r),
        trunk_lean=_angle(j[H36M["thorax"]] - j[H36M["pelvis"]], up),
        squat_depth=float(np.mean(depth)),
        knee_inward_left=_knee_inward(hip_l, knee_l, ankle_l, hip_r),
        knee_inward_right=_knee_inward(hip_r, knee_r, ankle_r, hip_l),
    )


def _angle(a: np.ndarray, b: np.ndarray) -> float:
    """Degrees between two vectors (NaN when either has no length)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        cosine = np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b))
    return float(np.degrees(np.arccos(np.clip(cosine, -1.0, 1.0))))


def _knee_inward(hip: np.ndarray, knee: np.ndarray, ankle: np.ndarray, other_hip: np.ndarray) -> float:
    """How far the knee sits inside the hip-ankle line, sideways only, in shin lengths.

    A bending knee moves forward off that line in any squat; only the part along the body's
    left-right axis (hip to hip, made square to the line) is the knee caving in or pushing out.
    """
    line = (ankle - hip) / np.linalg.norm(ankle - hip)
    offset = (knee - hip) - np.dot(knee - hip, line) * line
    outward = (hip - other_hip) - np.dot(hip - other_hip, line) * line
    outward /= np.linalg.norm(outward)
    return float(-np.dot(offset, outward) / np.linalg.norm(ankle - knee))
