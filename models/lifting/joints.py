"""COCO-17 keypoints to the Human3.6M-17 skeleton MotionBERT takes, and its input normalisation.

MotionBERT's in-the-wild path (`lib/data/dataset_wild.py`) starts from Halpe-26 keypoints, which
include a head top, a neck and a mid-hip; COCO-17 has none of them, so they are built here:

- pelvis: mid-hip; thorax: mid-shoulder (Halpe's "neck" sits there); spine: halfway between the two,
  exactly as `halpe2h36m` builds it from neck and hip;
- H36M joint 9 (named nose / neck-base in the datasets): the COCO nose, as `halpe2h36m` maps it;
- head (top): COCO has no head top, so the thorax -> mid-eye line is extended by half its length
  beyond the eyes. The eyes are a little below the crown, and this puts the point about where
  Human3.6M's head joint is for an upright head; it is the least certain joint of the mapping.

A derived joint's confidence is the mean of its sources' (halpe2h36m averages every channel), and
it is missing when any source is. Missing means NaN coordinates or confidence <= 0 in the input;
the output marks it with confidence 0 and NaN coordinates, which the lifter resolves.
"""

from __future__ import annotations

import numpy as np

# Human3.6M-17 in MotionBERT's order (lib/data/dataset_wild.py, lib/utils/utils_data.py flip_data).
H36M_JOINTS: tuple[str, ...] = (
    "pelvis",
    "right_hip",
    "right_knee",
    "right_ankle",
    "left_hip",
    "left_knee",
    "left_ankle",
    "spine",
    "thorax",
    "nose",
    "head",
    "left_shoulder",
    "left_elbow",
    "left_wrist",
    "right_shoulder",
    "right_elbow",
    "right_wrist",
)
H36M = {name: index for index, name in enumerate(H36M_JOINTS)}
# Mirror pairs, for flip averaging: left and right swap when the image is mirrored.
H36M_LEFT = [H36M[n] for n in H36M_JOINTS if n.startswith("left")]
H36M_RIGHT = [H36M[n.replace("left", "right")] for n in H36M_JOINTS if n.startswith("left")]

# COCO indices (models/pose/base.py COCO_KEYPOINTS order).
_NOSE, _L_EYE, _R_EYE = 0, 1, 2
_L_SHOULDER, _R_SHOULDER = 5, 6
_L_HIP, _R_HIP = 11, 12
# Joints that exist in both skeletons: H36M index -> COCO index.
_DIRECT = {
    H36M["right_hip"]: 12, H36M["right_knee"]: 14, H36M["right_ankle"]: 16,
    H36M["left_hip"]: 11, H36M["left_knee"]: 13, H36M["left_ankle"]: 15,
    H36M["nose"]: _NOSE,
    H36M["left_shoulder"]: 5, H36M["left_elbow"]: 7, H36M["left_wrist"]: 9,
    H36M["right_shoulder"]: 6, H36M["right_elbow"]: 8, H36M["right_wrist"]: 10,
}
_HEAD_BEYOND_EYES = 0.5  # head top = eyes + this x (eyes - thorax)


def coco_to_h36m(keypoints: np.ndarray) -> np.ndarray:
    """(..., 17, 3) COCO x, y, confidence -> (..., 17, 3) Human3.6M, same units; missing joints NaN, conf 0."""
    coco = np.asarray(keypoints, dtype=np.float64)
    if coco.shape[-2:] != (17, 3):
        raise ValueError(f"expected (..., 17, 3) COCO keypoints, got {coco.shape}")
    coco = _mark_missing(coco)
    h36m = np.empty_like(coco)
    for target, source in _DIRECT.items():
        h36m[..., target, :] = coco[..., source, :]
    pelvis = _mean(coco[..., _L_HIP, :], coco[..., _R_HIP, :])
    thorax = _mean(coco[..., _L_SHOULDER, :], coco[..., _R_SHOULDER, :])
    eyes = _mean(coco[..., _L_EYE, :], coco[..., _R_EYE, :])
    h36m[..., H36M["pelvis"], :] = pelvis
    h36m[..., H36M["thorax"], :] = thorax
    h36m[..., H36M["spine"], :] = _mean(pelvis, thorax)
    head = eyes.copy()
    head[..., :2] = eyes[..., :2] + _HEAD_BEYOND_EYES * (eyes[..., :2] - thorax[..., :2])
    head[..., 2] = (eyes[..., 2] + thorax[..., 2]) / 2
    h36m[..., H36M["head"], :] = _mark_missing(head)
    return _mark_missing(h36m)


def missing_mask(h36m: np.ndarray) -> np.ndarray:
    """(..., 17) True where a joint has no position (NaN) or no confidence."""
    return np.isnan(h36m[..., :2]).any(axis=-1) | ~(h36m[..., 2] > 0)


def normalize_screen(h36m: np.ndarray, width: int, height: int) -> np.ndarray:
    """Pixels -> the image centre at 0 and half the short side at 1 (infer_wild.py --pixel).

    Human3.6M's 2D inputs were normalised the same way (its frames are about square), so a person
    keeps the size and place in [-1, 1] that the fine-tuned checkpoint saw. Confidence is unchanged.
    """
    out = np.array(h36m, dtype=np.float64, copy=True)
    scale = min(width, height) / 2.0
    out[..., :2] = (out[..., :2] - np.array([width, height]) / 2.0) / scale
    return out


def normalize_box(h36m: np.ndarray) -> np.ndarray:
    """Pixels -> [-1, 1] by the square box around every present joint of the clip (crop_scale, ratio 1).

    The clip is (frames, 17, 3); joints without confidence do not shape the box, as in crop_scale.
    Like crop_scale it returns zeros when fewer than 4 joints are present or they span no area.
    """
    out = np.array(h36m, dtype=np.float64, copy=True)
    present = out[~missing_mask(out)][:, :2]
    if len(present) < 4:
        return np.zeros_like(out)
    low, high = present.min(axis=0), present.max(axis=0)
    side = float(np.max(high - low))
    if side == 0:
        return np.zeros_like(out)
    corner = (low + high - side) / 2
    out[..., :2] = ((out[..., :2] - corner) / side - 0.5) * 2
    return np.clip(out, -1, 1)


def _mean(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Midpoint and mean confidence; NaN (missing) when either is missing."""
    return _mark_missing((a + b) / 2)


def _mark_missing(joints: np.ndarray) -> np.ndarray:
    """Joints with a NaN coordinate or confidence <= 0 become (NaN, NaN, 0)."""
    out = np.array(joints, dtype=np.float64, copy=True)
    gone = np.isnan(out).any(axis=-1) | ~(out[..., 2] > 0)
    out[gone] = (np.nan, np.nan, 0.0)
    return out
