"""Augmentation for what real cameras and pose models do to a keypoint clip.

Each training crop is drawn from a clip and changed the way a different camera, person or pose
model would change it, before the per-frame normalisation of models.action.features:

  * speed: reps 0.6-1.7x as fast, and a pose model that delivers only 6-20 frames a second
    (the newest frame is held, as the live loop's resampling does);
  * view: in-plane rotation (a tilted phone), mirroring with and without the left/right labels
    swapped (selfie cameras, pose models that disagree on sides);
  * framing: upper body only, the feet or a hand out of frame;
  * pose model conventions: no eyes and ears (Penn-Action-style 13-joint annotations, OpenPose
    without the face), a fixed per-joint offset per clip (where a model puts the hip or the
    shoulder), jitter, dropped joints and frames.
"""

from __future__ import annotations

import warnings

import numpy as np

from models.action.features import FPS, SIDES_SWAPPED

FACE = [1, 2, 3, 4]
NOSE = 0
ARMS = [7, 8, 9, 10]
LOWER = [13, 14, 15, 16]
HIPS = [11, 12]
UPPER_BODY_CLASSES = {"bicep_curl", "shoulder_press", "front_raise", "lateral_raise", "shoulder_shrug", "other"}


def crop(frames: np.ndarray, progress: np.ndarray, length: int, speed: float,
         rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """`length` frames played `speed` times as fast, from a random start (linear interpolation of
    positions; a joint is present only where both neighbours are)."""
    n = len(frames)
    span = (length - 1) * speed
    start = rng.uniform(0, max(0.0, n - 1 - span))
    pos = np.clip(start + np.arange(length) * speed, 0, n - 1)
    i0 = np.floor(pos).astype(int)
    i1 = np.minimum(i0 + 1, n - 1)
    w = (pos - i0)[:, None, None]
    a, b = frames[i0], frames[i1]
    out = a * (1 - w) + b * w
    present = (a[..., 2] > 0) & (b[..., 2] > 0)
    out[..., 2] = np.where(present, np.minimum(a[..., 2], b[..., 2]), 0.0)
    out[~present, :2] = 0.0
    return out, progress[np.rint(pos).astype(int)]


def _body_size(frames: np.ndarray) -> float:
    seen = frames[..., 2] > 0
    if not seen.any():
        return 1.0
    xs = np.where(seen, frames[..., 0], np.nan)
    ys = np.where(seen, frames[..., 1], np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # frames with no joint at all
        ext = np.nanmax(ys, axis=1) - np.nanmin(ys, axis=1) + np.nanmax(xs, axis=1) - np.nanmin(xs, axis=1)
    ext = ext[np.isfinite(ext)]
    return float(np.median(ext)) / 2 if len(ext) and np.median(ext) > 0 else 1.0


def augment(frames: np.ndarray, label: str, rng: np.random.Generator) -> np.ndarray:
    """One random camera / person / pose model applied to a (T, 17, 3) crop (conf 0 = missing)."""
    kp = frames.astype(np.float64).copy()
    t = len(kp)
    seen = kp[..., 2] > 0
    size = _body_size(kp)
    xy = kp[..., :2]

    if rng.random() < 0.5:  # mirror; half the time the pose model also names the sides mirrored
        xy[..., 0] *= -1
        if rng.random() < 0.5:
            kp = kp[:, list(SIDES_SWAPPED)]
            xy, seen = kp[..., :2], kp[..., 2] > 0
    angle = np.radians(rng.normal(0, 7) if rng.random() < 0.8 else rng.uniform(-25, 25))
    c, s = np.cos(angle), np.sin(angle)
    xy[:] = xy @ np.array([[c, s], [-s, c]])
    xy += rng.normal(0, 0.025 * size, (1, 17, 2))  # where this pose model puts each joint
    xy += rng.normal(0, rng.uniform(0.003, 0.02) * size, xy.shape)  # its jitter

    drop = np.zeros((t, 17), dtype=bool)
    if rng.random() < 0.35:
        drop[:, FACE] = True
        if rng.random() < 0.2:
            drop[:, NOSE] = True
    if label in UPPER_BODY_CLASSES and rng.random() < 0.3:
        drop[:, LOWER] = True
        if rng.random() < 0.4:
            drop[:, HIPS] = True
    if rng.random() < 0.1:  # feet out of frame
        drop[:, [15, 16]] = True
    if rng.random() < 0.15:  # a hand or arm out of frame for a while
        a, b = sorted(rng.integers(0, t, 2))
        side = rng.integers(2)
        drop[a:b + 1, [7 + side, 9 + side] if rng.random() < 0.5 else [9 + side]] = True
    drop |= rng.random((t, 17)) < rng.uniform(0.0, 0.08)
    drop[rng.random(t) < rng.uniform(0.0, 0.04)] = True
    # Every joint a source kept counts as seen (most sources give 1 or no score at all); dropping
    # is what hides joints here.
    kp[..., 2] = np.where(seen & ~drop, np.clip(kp[..., 2] * rng.uniform(0.8, 1.1), 0.31, 1.0), 0.0)

    if rng.random() < 0.3:  # a slow pose model: frames at 6-20 fps, the newest one held (< MAX_HOLD_S)
        step = FPS / rng.uniform(6, 20)
        src = (np.floor(np.arange(t) / step) * step).astype(int)
        kp = kp[np.minimum(src, t - 1)]
    return kp.astype(np.float32)
