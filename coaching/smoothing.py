"""Keypoints over time: one-euro filtering (steady when the body is still, no lag when it moves
fast) and holding a joint the pose model loses for a moment (`JointHold`).

The one-euro filter (Casiez, Roussel and Vogel, CHI 2012) is a low-pass filter whose cut-off
rises with speed: jitter of a still joint is smoothed hard, a fast squat is followed closely.
Here it runs on all joints at once (numpy over (K, 2)) and is gated by confidence: a joint the
model is unsure of does not move the filtered value, and one unseen for longer than `max_gap_s`
starts afresh instead of sliding over from where it was last seen.
"""

from __future__ import annotations

import math

import numpy as np


def _alpha(cutoff_hz: np.ndarray | float, dt: np.ndarray) -> np.ndarray:
    """Smoothing factor of a first-order low-pass with this cut-off, sampled every dt seconds."""
    r = 2.0 * math.pi * np.asarray(cutoff_hz) * dt
    return r / (r + 1.0)


class KeypointSmoother:
    """One-euro filter over (K, 3) keypoints (x, y, confidence) in pixels, with confidence gating.

    min_cutoff: cut-off in Hz when still; lower is smoother and lags more.
    beta: cut-off added per pixel/second of speed; higher follows fast moves more closely.
    d_cutoff: cut-off in Hz of the speed estimate itself.
    min_confidence: below this a joint counts as not visible: its output x, y are NaN and its
        state is left alone.
    max_gap_s: a joint unseen for longer restarts from its next observation.
    """

    def __init__(
        self,
        min_cutoff: float = 1.0,
        beta: float = 0.01,
        d_cutoff: float = 1.0,
        min_confidence: float = 0.3,
        max_gap_s: float = 0.5,
    ) -> None:
        self.min_cutoff = min_cutoff
        self.beta = beta
        self.d_cutoff = d_cutoff
        self.min_confidence = min_confidence
        self.max_gap_s = max_gap_s
        self._value: np.ndarray | None = None  # (K, 2) filtered position
        self._speed = np.zeros((0, 2))  # (K, 2) filtered velocity, px/s
        self._last_t = np.zeros(0)  # (K,) time each joint was last updated
        self._started = np.zeros(0, dtype=bool)

    def reset(self) -> None:
        """Forget every joint (a new person is being followed)."""
        self._value = None

    def __call__(self, keypoints: np.ndarray, t: float) -> np.ndarray:
        """Filtered (K, 3) keypoints at time `t` (seconds): x, y NaN where the joint is not visible now."""
        keypoints = np.asarray(keypoints, dtype=np.float64)
        xy, confidence = keypoints[:, :2], keypoints[:, 2]
        if self._value is None or len(self._value) != len(keypoints):
            count = len(keypoints)
            self._value = np.zeros((count, 2))
            self._speed = np.zeros((count, 2))
            self._last_t = np.zeros(count)
            self._started = np.zeros(count, dtype=bool)

        visible = (confidence >= self.min_confidence) & np.isfinite(xy).all(axis=1)
        dt = t - self._last_t
        restart = visible & (~self._started | (dt > self.max_gap_s))
        step = visible & self._started & (dt > 0) & (dt <= self.max_gap_s)

        self._value[restart] = xy[restart]
        self._speed[restart] = 0.0

        if step.any():
            dts = dt[step][:, None]
            raw_speed = (xy[step] - self._value[step]) / dts
            speed = self._speed[step] + _alpha(self.d_cutoff, dts) * (raw_speed - self._speed[step])
            cutoff = self.min_cutoff + self.beta * np.linalg.norm(speed, axis=1, keepdims=True)
            self._value[step] += _alpha(cutoff, dts) * (xy[step] - self._value[step])
            self._speed[step] = speed

        updated = restart | step
        self._last_t[updated] = t
        self._started |= restart

        out = np.empty((len(keypoints), 3), dtype=np.float32)
        out[:, :2] = np.where(visible[:, None], self._value, np.nan)
        out[:, 2] = confidence
        return out


JOINT_HOLD_S = 0.25
"""How long a lost joint is held where it was last seen, for the learned model and the analysis alike."""


class JointHold:
    """A joint the pose model loses for a moment is taken where it was last seen.

    Pose models drop a joint for a frame or two (a hand passing the body, motion blur). Measures
    over both sides then jump: with one arm curling and the other hanging, losing the working
    wrist hands "the more bent elbow" to the straight arm for those frames, which reads as the rep
    ending and starting again. And the learned model's input is scaled over each frame's visible
    joints, so a flickering head or foot shifts every other joint. Holding a joint up to `hold_s`
    bridges such gaps without inventing one the person left out of view.

    A frame whose joints jumped from where they were just seen (the median joint moved more than
    `max_jump` of the body's extent: a detector glitch, or someone else) is passed on as it is: it
    neither fills its gaps nor becomes a sighting to hold, so one wrong frame is not stretched over
    the next ones. min_confidence: below it a joint is missing. A frame with fewer than
    `min_joints` visible joints is left as it is (nobody, or too little of a body, to fill in).
    A clock that goes back (a new recording fed to the same analyzer) forgets every sighting.
    """

    def __init__(self, hold_s: float = JOINT_HOLD_S, min_confidence: float = 0.3, min_joints: int = 4,
                 max_jump: float = 0.3) -> None:
        self.hold_s = hold_s
        self.min_confidence = min_confidence
        self.min_joints = min_joints
        self.max_jump = max_jump
        self._last: np.ndarray | None = None  # (K, 3) each joint where it was last seen
        self._last_t = np.zeros(0)
        self._t = -np.inf  # the latest frame's time

    def reset(self) -> None:
        self._last = None

    def __call__(self, keypoints: np.ndarray, t: float) -> np.ndarray:
        """(K, 3) x, y, confidence at time t → the same with short gaps filled (a copy)."""
        kp = np.array(keypoints, dtype=np.float64)
        if self._last is not None and t < self._t:
            self.reset()
        self._t = t
        if self._last is None or len(self._last) != len(kp):
            self._last = np.full(kp.shape, np.nan)
            self._last_t = np.full(len(kp), -np.inf)
        with np.errstate(invalid="ignore"):
            seen = np.isfinite(kp[:, :2]).all(axis=1) & (np.nan_to_num(kp[:, 2]) >= self.min_confidence)
        if seen.sum() < self.min_joints or self._jumped(kp, seen, t):
            return kp
        self._last[seen] = kp[seen]
        self._last_t[seen] = t
        fill = ~seen & (t - self._last_t <= self.hold_s)
        kp[fill] = self._last[fill]
        return kp

    def _jumped(self, kp: np.ndarray, seen: np.ndarray, t: float) -> bool:
        assert self._last is not None
        recent = t - self._last_t <= self.hold_s
        both = seen & recent
        if both.sum() < self.min_joints:
            return False
        extent = float(np.linalg.norm(np.ptp(self._last[recent, :2], axis=0)))
        moved = float(np.median(np.linalg.norm(kp[both, :2] - self._last[both, :2], axis=1)))
        return extent > 0 and moved > self.max_jump * extent
