"""YOLO pose (YOLO11 / YOLOv8) through onnxruntime: the hot path of the whole server.

The exported graph's output is (1, 56, N) for N anchors: box centre x, y, width, height (input
pixels), person score (already sigmoid), then 17 x (x, y, visibility) keypoints. Everything
around the graph is numpy and OpenCV; torch and ultralytics are not needed at run time.
"""

from __future__ import annotations

import threading
from pathlib import Path

import cv2
import numpy as np

from models.pose.base import NUM_KEYPOINTS, Person
from models.pose.image import Letterbox, input_shape_for, letterbox, to_bgr
from models.pose.options import PoseOptions
from models.pose.session import create_session

_CHANNELS = 5 + NUM_KEYPOINTS * 3


class YoloPose:
    """Multi-person 2D pose from one exported YOLO pose ONNX graph.

    The three stages are public so the benchmark can time them apart; `infer_2d` is the contract.
    Thread-safe: a frame run while another is under way takes a session on `threads_beside` threads.
    """

    def __init__(self, model_path: Path, options: PoseOptions) -> None:
        self.options = options
        self.session = create_session(model_path, options.threads, options.providers)
        self._beside = self.session if options.threads_beside == options.threads else \
            create_session(model_path, options.threads_beside, options.providers)
        self._running = 0  # frames in `run` now
        self._running_lock = threading.Lock()
        model_input = self.session.get_inputs()[0]
        self._input_name = model_input.name
        h, w = model_input.shape[2], model_input.shape[3]
        # A graph exported at a fixed size takes only that size; a dynamic one takes any multiple of 32.
        self._fixed_shape = (h, w) if isinstance(h, int) and isinstance(w, int) else None
        self.model_path = model_path

    def input_shape(self, height: int, width: int) -> tuple[int, int]:
        """The (h, w) tensor a height x width frame is letterboxed into."""
        if self._fixed_shape is not None:
            return self._fixed_shape
        return input_shape_for(height, width, self.options.input_size)

    def preprocess(self, bgr: np.ndarray) -> tuple[np.ndarray, Letterbox]:
        """Letterbox a BGR frame and make the (1, 3, h, w) float RGB blob the graph reads."""
        out_h, out_w = self.input_shape(*bgr.shape[:2])
        canvas, box = letterbox(bgr, out_h, out_w)
        return cv2.dnn.blobFromImage(canvas, scalefactor=1.0 / 255.0, swapRB=True), box

    def run(self, blob: np.ndarray) -> np.ndarray:
        """The raw (1, 56, N) prediction."""
        with self._running_lock:
            session = self._beside if self._running else self.session
            self._running += 1
        try:
            return session.run(None, {self._input_name: blob})[0]
        finally:
            with self._running_lock:
                self._running -= 1

    def postprocess(self, raw: np.ndarray, box: Letterbox, height: int, width: int) -> list[Person]:
        """Threshold, non-maximum suppression, and map boxes and keypoints back to frame pixels."""
        pred = raw[0]
        if pred.shape[0] != _CHANNELS:
            raise ValueError(f"expected a (1, {_CHANNELS}, N) YOLO pose output, got {raw.shape}")
        floor = self.options.lowest_score
        candidates = np.flatnonzero(pred[4] > floor)
        if candidates.size == 0:
            return []
        pred = pred[:, candidates].T  # (M, 56): only survivors are transposed
        xywh = pred[:, :4].copy()
        xywh[:, :2] -= xywh[:, 2:] / 2  # centre -> top-left, as NMSBoxes wants
        keep = cv2.dnn.NMSBoxes(xywh, pred[:, 4], floor, self.options.nms_iou_threshold)
        keep = np.asarray(keep, dtype=np.int64).reshape(-1)[: self.options.max_persons]
        pred = pred[keep]

        boxes = np.empty((len(keep), 4), dtype=np.float32)
        boxes[:, :2] = xywh[keep, :2]
        boxes[:, 2:] = xywh[keep, :2] + xywh[keep, 2:]
        box.to_image(boxes.reshape(-1, 2, 2))  # a view: both corners mapped in place
        keypoints = np.ascontiguousarray(pred[:, 5:].reshape(-1, NUM_KEYPOINTS, 3), dtype=np.float32)
        box.to_image(keypoints)

        limits = np.array([width, height, width, height], dtype=np.float32)
        np.clip(boxes, 0, limits, out=boxes)
        np.clip(keypoints[..., 0], 0, width, out=keypoints[..., 0])
        np.clip(keypoints[..., 1], 0, height, out=keypoints[..., 1])
        return [
            Person(keypoints=keypoints[i], box=boxes[i], score=float(pred[i, 4])) for i in range(len(keep))
        ]

    def infer_2d(self, image: np.ndarray) -> list[Person]:
        """Every person in the frame, in frame pixels, best first, down to `options.lowest_score`."""
        bgr = to_bgr(image)
        height, width = bgr.shape[:2]
        if height == 0 or width == 0:
            return []
        blob, box = self.preprocess(bgr)
        return self.postprocess(self.run(blob), box, height, width)
