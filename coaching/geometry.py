"""2D body geometry with visibility gating: joint angles, segment inclinations, distances.

Pose estimators return a point for every joint, even one they cannot see (with a low
confidence), and may return NaN or coordinates far outside the frame. `Pose` masks all of those
as missing once, so every measure downstream only has to ask "is this point there?" and answers
None ("not visible") instead of computing an angle from a guessed joint.

Image coordinates: x to the right, y DOWN (pixels). "Up" in the body means smaller y.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from coaching.skeleton import NUM_JOINTS, Joint, Side, joint

_EDGE_MARGIN = 0.02  # joints further than this fraction outside the frame are extrapolations


class Pose:
    """One frame's keypoints with missing joints masked.

    keypoints: (17, 3) x, y in image pixels and confidence in [0, 1]; NaN allowed.
    width, height: frame size in pixels (joints well outside it count as not visible).
    min_confidence: below it a joint counts as not visible.
    """

    __slots__ = ("xy", "confidence", "width", "height")

    def __init__(self, keypoints: np.ndarray, width: int, height: int, min_confidence: float = 0.3) -> None:
        kp = np.asarray(keypoints, dtype=np.float64)
        if kp.shape != (NUM_JOINTS, 3):
            raise ValueError(f"expected ({NUM_JOINTS}, 3) keypoints, got {kp.shape}")
        xy = kp[:, :2].copy()
        confidence = np.nan_to_num(kp[:, 2], nan=0.0, posinf=0.0, neginf=0.0)
        mx, my = _EDGE_MARGIN * width, _EDGE_MARGIN * height
        inside = (
            np.isfinite(xy).all(axis=1)
            & (xy[:, 0] >= -mx) & (xy[:, 0] <= width + mx)
            & (xy[:, 1] >= -my) & (xy[:, 1] <= height + my)
        )
        seen = inside & (confidence >= min_confidence)
        xy[~seen] = np.nan
        confidence[~seen] = 0.0
        self.xy = xy
        self.confidence = confidence
        self.width = width
        self.height = height

    def visible(self, *joints: int) -> bool:
        """Whether all of these joints are visible."""
        return bool(all(not math.isnan(self.xy[j, 0]) for j in joints))

    def point(self, j: int) -> np.ndarray | None:
        """(2,) position of a joint, None when not visible."""
        p = self.xy[j]
        return None if math.isnan(p[0]) else p

    def side_point(self, part: str, side: Side) -> np.ndarray | None:
        return self.point(joint(part, side))

    def mid(self, a: int, b: int) -> np.ndarray | None:
        """Midpoint of two joints; the one visible joint alone when the other is hidden (side views)."""
        pa, pb = self.point(a), self.point(b)
        if pa is None:
            return pb
        if pb is None:
            return pa
        return (pa + pb) / 2.0

    def side_confidence(self, parts: Iterable[str], side: Side) -> float:
        """Lowest confidence among these parts on one side (0 when any is hidden)."""
        return float(min(self.confidence[joint(p, side)] for p in parts))

    def count_visible(self) -> int:
        return int((~np.isnan(self.xy[:, 0])).sum())

    @property
    def shoulder_mid(self) -> np.ndarray | None:
        return self.mid(Joint.LEFT_SHOULDER, Joint.RIGHT_SHOULDER)

    @property
    def hip_mid(self) -> np.ndarray | None:
        return self.mid(Joint.LEFT_HIP, Joint.RIGHT_HIP)


def angle_at(a: np.ndarray | None, b: np.ndarray | None, c: np.ndarray | None) -> float | None:
    """Angle ABC at vertex b in degrees (0-180); None when a point is missing or a segment has no length."""
    if a is None or b is None or c is None:
        return None
    u, v = a - b, c - b
    nu, nv = math.hypot(*u), math.hypot(*v)
    if nu < 1e-6 or nv < 1e-6:
        return None
    cos = float(np.dot(u, v) / (nu * nv))
    return math.degrees(math.acos(max(-1.0, min(1.0, cos))))


def inclination(start: np.ndarray | None, end: np.ndarray | None) -> float | None:
    """Angle of the segment start→end from straight up, in degrees: 0 up, 90 horizontal, 180 down."""
    if start is None or end is None:
        return None
    dx, dy = end - start
    if math.hypot(dx, dy) < 1e-6:
        return None
    return math.degrees(math.atan2(abs(dx), -dy))


def signed_tilt(start: np.ndarray | None, end: np.ndarray | None, toward: float) -> float | None:
    """Angle of start→end from straight up, positive when it leans toward image x direction `toward` (+1/-1)."""
    base = inclination(start, end)
    if base is None or start is None or end is None:
        return None
    dx = float(end[0] - start[0])
    return base if dx * toward >= 0 else -base


def distance(a: np.ndarray | None, b: np.ndarray | None) -> float | None:
    if a is None or b is None:
        return None
    return math.hypot(*(a - b))


def offset_from_line(p: np.ndarray | None, a: np.ndarray | None, b: np.ndarray | None) -> float | None:
    """Signed distance of p from the line a→b divided by |ab|; positive toward the floor (image +y).

    Used for body lines (shoulder-hip-ankle): positive means the middle point sags below the line.
    """
    if p is None or a is None or b is None:
        return None
    d = b - a
    length = math.hypot(*d)
    if length < 1e-6:
        return None
    normal = np.array([-d[1], d[0]]) / length
    if normal[1] < 0 or (normal[1] == 0 and normal[0] < 0):
        normal = -normal
    return float(np.dot(p - a, normal) / length)
