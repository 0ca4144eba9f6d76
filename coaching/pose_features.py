"""Pose features for exercise recognition: per-frame body shape, then statistics over a time window.

Features must mean the same thing for any person, distance, camera side and facing direction:
positions are taken relative to the hips and divided by the body's size in the image, the x axis
is mirrored so a person seen in profile always faces right, and left/right pairs are reduced to
their min/max (or mean and spread). Missing joints give NaN, never a guess. Vectorised over
frames, because training turns hundreds of thousands of frames into features.
"""

from __future__ import annotations

import warnings

import numpy as np

from coaching.skeleton import Joint

J = Joint
_EDGE_MARGIN = 0.02
_MIN_FACING = 0.05  # in body sizes: the nose must be this far ahead of the ears to tell facing

FRAME_FEATURES: tuple[str, ...] = (
    "knee_min", "knee_max", "elbow_min", "elbow_max", "hip_min", "hip_max", "shoulder_min", "shoulder_max",
    "torso_dx", "torso_dy", "leg_dx", "leg_dy",
    "wrist_x", "wrist_y", "wrist_spread", "elbow_x", "elbow_y",
    "ankle_x", "ankle_y", "ankle_spread", "knee_x", "knee_y", "nose_x", "nose_y",
    "width_ratio", "visible",
)
STATS: tuple[str, ...] = ("mean", "std", "min", "max")
WINDOW_FEATURES: tuple[str, ...] = tuple(f"{f}_{s}" for s in STATS for f in FRAME_FEATURES)


def mask_keypoints(keypoints: np.ndarray, width: int, height: int, min_confidence: float = 0.3) -> np.ndarray:
    """(N, 17, 2) positions with NaN where a joint is not visible (same rules as coaching.geometry.Pose)."""
    kp = np.asarray(keypoints, dtype=np.float64)
    xy = kp[..., :2].copy()
    conf = np.nan_to_num(kp[..., 2], nan=0.0, posinf=0.0, neginf=0.0)
    with np.errstate(invalid="ignore"):
        ok = (np.isfinite(xy).all(axis=-1) & (conf >= min_confidence)
              & (xy[..., 0] >= -_EDGE_MARGIN * width) & (xy[..., 0] <= (1 + _EDGE_MARGIN) * width)
              & (xy[..., 1] >= -_EDGE_MARGIN * height) & (xy[..., 1] <= (1 + _EDGE_MARGIN) * height))
    xy[~ok] = np.nan
    return xy


def _angle(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    u, v = a - b, c - b
    nu, nv = np.linalg.norm(u, axis=-1), np.linalg.norm(v, axis=-1)
    cos = np.sum(u * v, axis=-1) / (nu * nv)
    return np.degrees(np.arccos(np.clip(cos, -1.0, 1.0))) / 180.0


def _mid(xy: np.ndarray, a: int, b: int) -> np.ndarray:
    """Midpoint, or the one visible joint of the pair."""
    return np.nanmean(np.stack([xy[:, a], xy[:, b]]), axis=0)


def frame_features(keypoints: np.ndarray, width: int, height: int, min_confidence: float = 0.3) -> np.ndarray:
    """(N, 17, 3) keypoints → (N, len(FRAME_FEATURES)) features, NaN where not measurable."""
    kp = np.asarray(keypoints, dtype=np.float64)
    if kp.ndim == 2:
        kp = kp[None]
    with warnings.catch_warnings(), np.errstate(invalid="ignore", divide="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        return _features(mask_keypoints(kp, width, height, min_confidence))


def _features(xy: np.ndarray) -> np.ndarray:
    n = len(xy)
    hip, shoulder = _mid(xy, J.LEFT_HIP, J.RIGHT_HIP), _mid(xy, J.LEFT_SHOULDER, J.RIGHT_SHOULDER)
    centre = np.where(np.isnan(hip), shoulder, hip)
    torso = np.linalg.norm(shoulder - hip, axis=-1)
    sh_w = np.linalg.norm(xy[:, J.LEFT_SHOULDER] - xy[:, J.RIGHT_SHOULDER], axis=-1)
    hip_w = np.linalg.norm(xy[:, J.LEFT_HIP] - xy[:, J.RIGHT_HIP], axis=-1)
    size = np.nanmax(np.stack([torso, sh_w, 1.6 * hip_w]), axis=0)
    size = np.where(size > 1e-6, size, np.nan)
    rel = (xy - centre[:, None, :]) / size[:, None, None]  # body sizes, y down
    rel[..., 1] *= -1.0  # y up
    # Profile views: mirror so the nose points to +x (facing is meaningless head-on, kept as is).
    ears = _mid(rel, J.LEFT_EAR, J.RIGHT_EAR)
    ref = np.where(np.isnan(ears), _mid(rel, J.LEFT_SHOULDER, J.RIGHT_SHOULDER), ears)
    ahead = rel[:, J.NOSE, 0] - ref[:, 0]
    flip = np.where(ahead < -_MIN_FACING, -1.0, 1.0)
    rel[..., 0] *= flip[:, None]

    def pair(a: int, b: int, c: int, side_a: int, side_b: int, side_c: int) -> tuple[np.ndarray, np.ndarray]:
        both = np.stack([_angle(xy[:, a], xy[:, b], xy[:, c]), _angle(xy[:, side_a], xy[:, side_b], xy[:, side_c])])
        return np.nanmin(both, axis=0), np.nanmax(both, axis=0)

    knee = pair(J.LEFT_HIP, J.LEFT_KNEE, J.LEFT_ANKLE, J.RIGHT_HIP, J.RIGHT_KNEE, J.RIGHT_ANKLE)
    elbow = pair(J.LEFT_SHOULDER, J.LEFT_ELBOW, J.LEFT_WRIST, J.RIGHT_SHOULDER, J.RIGHT_ELBOW, J.RIGHT_WRIST)
    hipa = pair(J.LEFT_SHOULDER, J.LEFT_HIP, J.LEFT_KNEE, J.RIGHT_SHOULDER, J.RIGHT_HIP, J.RIGHT_KNEE)
    shoul = pair(J.LEFT_HIP, J.LEFT_SHOULDER, J.LEFT_ELBOW, J.RIGHT_HIP, J.RIGHT_SHOULDER, J.RIGHT_ELBOW)
    torso_v = _mid(rel, J.LEFT_SHOULDER, J.RIGHT_SHOULDER) - _mid(rel, J.LEFT_HIP, J.RIGHT_HIP)
    torso_u = torso_v / np.linalg.norm(torso_v, axis=-1, keepdims=True)
    leg_v = _mid(rel, J.LEFT_HIP, J.RIGHT_HIP) - _mid(rel, J.LEFT_ANKLE, J.RIGHT_ANKLE)
    leg_u = leg_v / np.linalg.norm(leg_v, axis=-1, keepdims=True)
    wrist, elb = _mid(rel, J.LEFT_WRIST, J.RIGHT_WRIST), _mid(rel, J.LEFT_ELBOW, J.RIGHT_ELBOW)
    ankle, kn = _mid(rel, J.LEFT_ANKLE, J.RIGHT_ANKLE), _mid(rel, J.LEFT_KNEE, J.RIGHT_KNEE)
    width_ratio = np.clip(np.where(np.isnan(sh_w), 1.6 * hip_w, sh_w) / torso, 0.0, 3.0)
    visible = (~np.isnan(xy[..., 0])).sum(axis=1) / 17.0
    cols = [
        knee[0], knee[1], elbow[0], elbow[1], hipa[0], hipa[1], shoul[0], shoul[1],
        torso_u[:, 0], torso_u[:, 1], leg_u[:, 0], leg_u[:, 1],
        wrist[:, 0], wrist[:, 1], np.abs(rel[:, J.LEFT_WRIST, 0] - rel[:, J.RIGHT_WRIST, 0]), elb[:, 0], elb[:, 1],
        ankle[:, 0], ankle[:, 1], np.abs(rel[:, J.LEFT_ANKLE, 0] - rel[:, J.RIGHT_ANKLE, 0]), kn[:, 0], kn[:, 1],
        rel[:, J.NOSE, 0], rel[:, J.NOSE, 1], width_ratio, visible,
    ]
    out = np.stack(cols, axis=1)
    out[np.isnan(size)] = np.nan  # no body frame of reference: nothing measurable
    out[:, -1] = visible
    assert out.shape == (n, len(FRAME_FEATURES))
    return out


def window_features(frames: np.ndarray) -> np.ndarray:
    """(M, F) frame features over a time window → (4F,) mean, std, min, max per feature (NaN if never seen)."""
    frames = np.asarray(frames, dtype=np.float64)
    if len(frames) == 0:
        return np.full(len(WINDOW_FEATURES), np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.concatenate([np.nanmean(frames, axis=0), np.nanstd(frames, axis=0),
                               np.nanmin(frames, axis=0), np.nanmax(frames, axis=0)])
