"""Frame normalisation and the letterbox that maps a frame into a model's input and back.

Frames arrive from cameras, files and tests in every shape: gray, BGR, BGRA, 16-bit, float, odd
sizes. They are all turned into contiguous uint8 BGR here so no backend has to care.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

PAD_VALUE = 114  # Ultralytics' letterbox gray: the value the YOLO models were trained with.


def to_bgr(image: np.ndarray) -> np.ndarray:
    """Any frame as contiguous uint8 HxWx3 BGR.

    Accepts HxW or HxWx1 gray, HxWx3 BGR, HxWx4 BGRA; uint8, uint16 (scaled down) or float
    (0..1 if its maximum is at most 1, else 0..255). Raises ValueError for anything else.
    """
    array = np.asarray(image)
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] not in (3, 4)):
        raise ValueError(f"expected HxW, HxWx1, HxWx3 or HxWx4 image, got shape {array.shape}")
    array = _to_uint8(array)
    if array.ndim == 2:
        return cv2.cvtColor(array, cv2.COLOR_GRAY2BGR)
    if array.shape[2] == 4:
        return cv2.cvtColor(array, cv2.COLOR_BGRA2BGR)
    return np.ascontiguousarray(array)


def _to_uint8(array: np.ndarray) -> np.ndarray:
    if array.dtype == np.uint8:
        return array
    if array.dtype == np.uint16:
        return (array >> 8).astype(np.uint8)
    if np.issubdtype(array.dtype, np.floating):
        finite = np.nan_to_num(array.astype(np.float32), nan=0.0, posinf=255.0, neginf=0.0)
        scale = 255.0 if finite.size and finite.max() <= 1.0 else 1.0
        return np.clip(finite * scale, 0, 255).astype(np.uint8)
    if np.issubdtype(array.dtype, np.integer) or array.dtype == np.bool_:
        return np.clip(array, 0, 255).astype(np.uint8)
    raise ValueError(f"unsupported image dtype {array.dtype}")


@dataclass(frozen=True, slots=True)
class Letterbox:
    """How a frame was placed in the model input: input = frame * scale + pad, per axis."""

    scale_x: float
    scale_y: float
    pad_x: float
    pad_y: float

    def to_image(self, xy: np.ndarray) -> np.ndarray:
        """Map (..., 2+) input-pixel coordinates back to frame pixels (in place, returned)."""
        xy[..., 0] = (xy[..., 0] - self.pad_x) / self.scale_x
        xy[..., 1] = (xy[..., 1] - self.pad_y) / self.scale_y
        return xy


def input_shape_for(height: int, width: int, long_side: int, stride: int = 32) -> tuple[int, int]:
    """(h, w) of the smallest stride-aligned input whose long side is `long_side` and holds the frame's aspect."""
    long_side = -(-long_side // stride) * stride
    scale = long_side / max(height, width)
    h = max(stride, -(-round(height * scale) // stride) * stride)
    w = max(stride, -(-round(width * scale) // stride) * stride)
    return h, w


def letterbox(bgr: np.ndarray, out_h: int, out_w: int) -> tuple[np.ndarray, Letterbox]:
    """Resize `bgr` to fit (out_h, out_w) keeping its aspect, centre it on gray, return the canvas."""
    h, w = bgr.shape[:2]
    scale = min(out_h / h, out_w / w)
    new_w = min(out_w, max(1, round(w * scale)))
    new_h = min(out_h, max(1, round(h * scale)))
    pad_x = (out_w - new_w) // 2
    pad_y = (out_h - new_h) // 2
    resized = bgr if (new_w, new_h) == (w, h) else cv2.resize(bgr, (new_w, new_h), interpolation=cv2.INTER_LINEAR)
    if (new_w, new_h) == (out_w, out_h):
        canvas = resized
    else:
        canvas = np.full((out_h, out_w, 3), PAD_VALUE, dtype=np.uint8)
        canvas[pad_y : pad_y + new_h, pad_x : pad_x + new_w] = resized
    return canvas, Letterbox(new_w / w, new_h / h, float(pad_x), float(pad_y))
