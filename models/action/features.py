"""The learned skeleton model's input: COCO-17 keypoints normalised per frame, on a fixed clock.

Every source the model meets normalises differently (pixels from our pose models, MoveNet or
MediaPipe coordinates, some public sets already min-max normalised per frame and per axis). The
one representation all of them can be brought to without loss is the source sets' own: each
frame's visible joints rescaled to [0, 1] separately in x and y. Position, distance, image size
and aspect ratio drop out; the arrangement of the joints and how it moves stay. Training and the
live loop both call `frame_features`, so they cannot drift apart.

Frames are resampled onto a fixed `FPS` clock (the newest frame at or before each tick; ticks
with no frame within `MAX_HOLD_S` are empty), so a pose model that delivers 8 or 30 frames a
second shows the network the same speed of movement.
"""

from __future__ import annotations

import warnings

import numpy as np

FPS = 30.0
MAX_HOLD_S = 0.35
MIN_CONFIDENCE = 0.3
MIN_JOINTS = 4  # fewer visible joints than this is not a body to normalise
N_JOINTS = 17
N_FEATURES = 3 * N_JOINTS  # x, y, visible
SIDES_SWAPPED = (0, 2, 1, 4, 3, 6, 5, 8, 7, 10, 9, 12, 11, 14, 13, 16, 15)
"""COCO-17 order with every left joint and its right twin exchanged."""


def frame_features(keypoints: np.ndarray, min_confidence: float = MIN_CONFIDENCE) -> np.ndarray:
    """(T, 17, 3) x, y, confidence (any units, NaN allowed) → (T, 51) float32 model input.

    Per frame: x of the 17 joints, y of the 17 joints (each min-max scaled over the visible
    joints), then 1/0 for visible. Invisible joints and frames with fewer than MIN_JOINTS
    visible joints are all zeros.
    """
    kp = np.asarray(keypoints, dtype=np.float64)
    if kp.ndim == 2:
        kp = kp[None]
    xy = kp[..., :2]
    with np.errstate(invalid="ignore"):
        seen = np.isfinite(xy).all(axis=-1) & (np.nan_to_num(kp[..., 2], nan=0.0) >= min_confidence)
    seen &= seen.sum(axis=1, keepdims=True) >= MIN_JOINTS
    big = np.where(seen[..., None], xy, np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # an empty frame is an expected input
        lo = np.nanmin(big, axis=1, keepdims=True)
        hi = np.nanmax(big, axis=1, keepdims=True)
    span = hi - lo
    norm = np.where(span > 1e-6, (big - lo) / np.where(span > 1e-6, span, 1.0), 0.5)
    norm = np.where(seen[..., None], norm, 0.0)
    out = np.concatenate([norm[..., 0], norm[..., 1], seen.astype(np.float64)], axis=1)
    return out.astype(np.float32)


def mirrored(features: np.ndarray) -> np.ndarray:
    """(T, 51) frame_features rows of the same frames seen in a mirror: x reflected and each joint
    named for the side it is on in the mirror, as a pose model labels a mirrored image (a selfie
    camera's) by anatomy. Empty joints stay zero."""
    x, y, seen = features[:, :N_JOINTS], features[:, N_JOINTS:2 * N_JOINTS], features[:, 2 * N_JOINTS:]
    x = np.where(seen > 0, 1.0 - x, 0.0)
    order = list(SIDES_SWAPPED)
    return np.concatenate([x[:, order], y[:, order], seen[:, order]], axis=1).astype(features.dtype)


def resample(times: np.ndarray, values: np.ndarray, end_t: float, n: int, fps: float = FPS,
             empty: float = np.nan) -> np.ndarray:
    """The n ticks of a `fps` clock ending at end_t: for each, the newest row of `values` at or before it.

    times (M,) ascending, values (M, ...): keypoints (M, 17, 3) or features (M, 51). A tick with
    no frame within MAX_HOLD_S before it gets `empty` (NaN keypoints, zero features), as when
    nobody is in view.
    """
    ticks = end_t - (np.arange(n)[::-1] / fps)
    out = np.full((n, *values.shape[1:]), empty, dtype=np.float64)
    if len(times) == 0:
        return out
    idx = np.searchsorted(times, ticks + 1e-9, side="right") - 1
    ok = (idx >= 0) & (ticks - times[np.clip(idx, 0, None)] <= MAX_HOLD_S)
    out[ok] = values[idx[ok]]
    return out
