"""Which way the camera sees the person (side, front, or unclear) and which body parts are in view.

Fault rules are only valid from one side: depth and forward lean need a side view, knees caving
in needs a front view. The view is read from the body itself: seen from the front the shoulders
are wide compared with the torso, seen from the side they nearly overlap. This holds standing and
lying (push-ups), because the torso length is measured in the image, where it is foreshortened
exactly when the shoulders are not.
"""

from __future__ import annotations

import math
from collections import deque
from typing import Literal

import numpy as np

from coaching.geometry import Pose, distance
from coaching.skeleton import Joint

View = Literal["side", "front", "unknown"]

# Shoulder width / torso length: ~0.75 facing the camera, ~0.1 in profile (measured on the
# parametric body and on real keypoints; a 45-degree turn gives ~0.5, hence the wide gap).
SIDE_BELOW = 0.30
FRONT_ABOVE = 0.55
_HIP_TO_SHOULDER_WIDTH = 1.6  # shoulders are about this much wider than hips (fallback)

# Parts a person asks about, with the joints that show them.
BODY_PARTS: dict[str, tuple[Joint, ...]] = {
    "head": (Joint.NOSE,),
    "shoulders": (Joint.LEFT_SHOULDER, Joint.RIGHT_SHOULDER),
    "elbows": (Joint.LEFT_ELBOW, Joint.RIGHT_ELBOW),
    "hands": (Joint.LEFT_WRIST, Joint.RIGHT_WRIST),
    "hips": (Joint.LEFT_HIP, Joint.RIGHT_HIP),
    "knees": (Joint.LEFT_KNEE, Joint.RIGHT_KNEE),
    "feet": (Joint.LEFT_ANKLE, Joint.RIGHT_ANKLE),
}


def width_ratio(pose: Pose) -> float | None:
    """Shoulder width over torso length in the image (None when the torso is not visible)."""
    torso = distance(pose.shoulder_mid, pose.hip_mid)
    if not torso:
        return None
    shoulders = distance(pose.point(Joint.LEFT_SHOULDER), pose.point(Joint.RIGHT_SHOULDER))
    if shoulders is not None:
        return shoulders / torso
    hips = distance(pose.point(Joint.LEFT_HIP), pose.point(Joint.RIGHT_HIP))
    if hips is not None:
        return hips * _HIP_TO_SHOULDER_WIDTH / torso
    # Only one shoulder and one hip seen, the rest of the body clear: what a profile looks like.
    return 0.0 if pose.count_visible() >= 6 else None


def classify_view(ratio: float | None, previous: View = "unknown", margin: float = 0.05) -> View:
    """Side/front/unknown from a width ratio, sticking to `previous` within `margin` of a threshold."""
    if ratio is None or not math.isfinite(ratio):
        return "unknown"
    side_below = SIDE_BELOW + (margin if previous == "side" else 0.0)
    front_above = FRONT_ABOVE - (margin if previous == "front" else 0.0)
    if ratio < side_below:
        return "side"
    if ratio > front_above:
        return "front"
    return "unknown"


def hidden_parts(pose: Pose, parts: tuple[str, ...] | list[str]) -> list[str]:
    """Which of these parts have no visible joint at all (one side is enough in a side view)."""
    return [p for p in parts if not any(pose.visible(j) for j in BODY_PARTS[p])]


class ViewEstimator:
    """The camera view over the last `window_s` seconds (median ratio), so one odd frame does not flip it."""

    def __init__(self, window_s: float = 0.6) -> None:
        self.window_s = window_s
        self._ratios: deque[tuple[float, float]] = deque()
        self.view: View = "unknown"

    def reset(self) -> None:
        self._ratios.clear()
        self.view = "unknown"

    def update(self, pose: Pose | None, t: float) -> View:
        ratio = None if pose is None else width_ratio(pose)
        if ratio is not None:
            self._ratios.append((t, ratio))
        while self._ratios and t - self._ratios[0][0] > self.window_s:
            self._ratios.popleft()
        if not self._ratios:
            self.view = "unknown"
        else:
            self.view = classify_view(float(np.median([r for _, r in self._ratios])), self.view)
        return self.view
