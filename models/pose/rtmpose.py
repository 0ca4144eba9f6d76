"""RTMPose / RTMW top-down pose through onnxruntime: the fallback backend.

Top-down: each person box is cropped by an affine warp to the model's input (aspect kept, box
enlarged by `box_padding`), the model returns SimCC vectors (`simcc_x` (1, K, W*r), `simcc_y`
(1, K, H*r) for split ratio r), and the argmax of each, divided by r, is the keypoint in crop
pixels, which the inverse warp takes back to the frame. Whole-body models (133 keypoints, COCO-
WholeBody order) start with the 17 COCO body joints, so the first 17 are the COCO-17 skeleton; all
133 are kept on `Person.whole_body` (feet, face, hands) for whoever asks for them.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from models.pose.base import NUM_KEYPOINTS, WHOLE_BODY_KEYPOINTS, Person, PoseEstimator
from models.pose.image import to_bgr
from models.pose.options import PoseOptions
from models.pose.session import create_session

# ImageNet statistics in RGB order, as MMPose's data preprocessor normalises (after BGR -> RGB).
_MEAN = np.array([123.675, 116.28, 103.53], dtype=np.float32)
_STD = np.array([58.395, 57.12, 57.375], dtype=np.float32)


def crop_box(box: np.ndarray, padding: float, aspect: float) -> tuple[np.ndarray, np.ndarray]:
    """Centre and (w, h) of the region to crop: `box` enlarged by `padding`, grown to width/height = aspect."""
    x1, y1, x2, y2 = (float(v) for v in box)
    center = np.array([(x1 + x2) / 2, (y1 + y2) / 2], dtype=np.float32)
    w, h = max(x2 - x1, 1.0) * padding, max(y2 - y1, 1.0) * padding
    if w > h * aspect:
        h = w / aspect
    else:
        w = h * aspect
    return center, np.array([w, h], dtype=np.float32)


def crop_matrix(center: np.ndarray, size: np.ndarray, out_w: int, out_h: int) -> np.ndarray:
    """The 2x3 affine that maps the region (center, size) of the frame onto an out_w x out_h crop."""
    s = out_w / float(size[0])
    return np.array(
        [[s, 0.0, out_w / 2 - s * center[0]], [0.0, s, out_h / 2 - s * center[1]]],
        dtype=np.float32,
    )


def decode_simcc(simcc_x: np.ndarray, simcc_y: np.ndarray, split_ratio: float) -> np.ndarray:
    """(K, 3) keypoints in crop pixels from (K, Wx) and (K, Wy) SimCC vectors.

    Confidence is the weaker of the two axis maxima, clipped to [0, 1] (RTMPose's own score).
    """
    x = np.argmax(simcc_x, axis=1)
    y = np.argmax(simcc_y, axis=1)
    rows = np.arange(simcc_x.shape[0])
    score = np.minimum(simcc_x[rows, x], simcc_y[rows, y])
    out = np.empty((simcc_x.shape[0], 3), dtype=np.float32)
    out[:, 0] = x / split_ratio
    out[:, 1] = y / split_ratio
    out[:, 2] = np.clip(score, 0.0, 1.0)
    return out


class RtmPose:
    """Top-down RTMPose/RTMW: person boxes from `detector` (or the whole frame), keypoints from the crop."""

    def __init__(self, model_path: Path, options: PoseOptions, detector: PoseEstimator | None) -> None:
        self.options = options
        self.detector = detector
        self.session = create_session(model_path, options.threads, options.providers)
        model_input = self.session.get_inputs()[0]
        self._input_name = model_input.name
        h, w = model_input.shape[2], model_input.shape[3]
        self.input_wh = (w, h) if isinstance(w, int) and isinstance(h, int) else options.rtmpose_input_size
        names = [o.name for o in self.session.get_outputs()]
        self._outputs = ["simcc_x", "simcc_y"] if {"simcc_x", "simcc_y"} <= set(names) else names[:2]
        self.model_path = model_path

    def estimate(self, bgr: np.ndarray, box: np.ndarray) -> np.ndarray:
        """(K, 3) keypoints in frame pixels for the person in `box` (x1, y1, x2, y2): every point the
        model gives (17 for a body model, 133 for RTMW), the COCO-17 body joints first."""
        out_w, out_h = self.input_wh
        center, size = crop_box(box, self.options.box_padding, out_w / out_h)
        matrix = crop_matrix(center, size, out_w, out_h)
        crop = cv2.warpAffine(bgr, matrix, (out_w, out_h), flags=cv2.INTER_LINEAR)
        rgb = cv2.cvtColor(crop, cv2.COLOR_BGR2RGB).astype(np.float32)
        blob = ((rgb - _MEAN) / _STD).transpose(2, 0, 1)[None]
        simcc_x, simcc_y = self.session.run(self._outputs, {self._input_name: np.ascontiguousarray(blob)})
        keypoints = decode_simcc(simcc_x[0], simcc_y[0], self.options.simcc_split_ratio)
        scale = matrix[0, 0]
        keypoints[:, 0] = (keypoints[:, 0] - matrix[0, 2]) / scale
        keypoints[:, 1] = (keypoints[:, 1] - matrix[1, 2]) / scale
        np.clip(keypoints[:, 0], 0, bgr.shape[1], out=keypoints[:, 0])
        np.clip(keypoints[:, 1], 0, bgr.shape[0], out=keypoints[:, 1])
        return keypoints

    def infer_2d(self, image: np.ndarray) -> list[Person]:
        """Every detected person with RTMPose keypoints; with no detector, the whole frame as one box."""
        bgr = to_bgr(image)
        height, width = bgr.shape[:2]
        if height == 0 or width == 0:
            return []
        if self.detector is not None:
            return [self._person(self.estimate(bgr, p.box), p.box, p.score) for p in self.detector.infer_2d(bgr)]
        box = np.array([0, 0, width, height], dtype=np.float32)
        points = self.estimate(bgr, box)
        score = float(points[:NUM_KEYPOINTS, 2].mean())
        if score < self.options.score_threshold:
            return []
        return [self._person(points, box, score)]

    @staticmethod
    def _person(points: np.ndarray, box: np.ndarray, score: float) -> Person:
        whole_body = points if len(points) == WHOLE_BODY_KEYPOINTS else None
        return Person(keypoints=points[:NUM_KEYPOINTS], box=box, score=score, whole_body=whole_body)
