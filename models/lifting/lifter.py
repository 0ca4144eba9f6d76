"""Live 3D lifting: the last few seconds of one person's 2D keypoints -> their 3D pose now.

Every frame's COCO keypoints are pushed as they come; `lift()` runs MotionBERT on the window of the
newest `window` frames and answers for the newest one. The model sees the whole window at once, so
the newest frame has only the past to go on (no look-ahead: no added latency).

Missing joints: a joint the detector lost keeps the last position it had in the window, with
confidence 0 so the model can weigh it down; a joint not seen anywhere in the window yet is all
zeros (x, y and confidence), which is how MotionBERT's pretraining masks joints it hides.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from models.devices import resolve_device
from models.lifting.checkpoint import load_weights
from models.lifting.dstformer import DSTformer
from models.lifting.joints import H36M_LEFT, H36M_RIGHT, coco_to_h36m, missing_mask, normalize_box, normalize_screen
from models.lifting.options import LiftingOptions


@dataclass(frozen=True)
class Lifted:
    """The newest frame's 3D pose and motion embedding.

    joints: (17, 3) float32, Human3.6M order (models.lifting.joints.H36M_JOINTS), relative to the
    pelvis, x right and y down as in the image, z away from the camera, in the input's normalised
    units (half the image's short side for `screen`, half the window's box for `box`).
    embedding: (dim_rep,) float32, MotionBERT's representation of this frame averaged over joints.
    frames: how many frames the window held.
    """

    joints: np.ndarray
    embedding: np.ndarray
    frames: int


def load_model(options: LiftingOptions, weights: Path) -> DSTformer:
    """The network `options.architecture` describes, with the checkpoint `options` names loaded."""
    return load_weights(DSTformer.from_config(options.architecture), options.checkpoint_path(weights))


class MotionLifter:
    """Sliding-window lifter for one person; `reset()` when the tracked person changes."""

    def __init__(self, model: DSTformer, options: LiftingOptions | None = None) -> None:
        self.options = options or LiftingOptions()
        if self.options.window > model.config.maxlen:
            raise ValueError(f"window {self.options.window} is longer than the model's {model.config.maxlen} frames")
        self.device = resolve_device(self.options.device)
        self.dtype = torch.float16 if self.device.type == "cuda" and self.options.half else torch.float32
        if self.device.type == "cpu" and self.options.threads is not None:
            torch.set_num_threads(self.options.threads)
        self.model = model.to(device=self.device, dtype=self.dtype).eval()
        self._frames: deque[np.ndarray] = deque(maxlen=self.options.window)
        self._sizes: deque[tuple[int, int]] = deque(maxlen=self.options.window)

    def push(self, keypoints: np.ndarray, width: int, height: int) -> None:
        """Add one frame: (17, 3) COCO x, y in pixels and confidence (NaN or confidence 0 when missing)."""
        self._frames.append(coco_to_h36m(keypoints))
        self._sizes.append((width, height))

    def reset(self) -> None:
        """Forget the window (another person, or a cut): the next lifts start from scratch."""
        self._frames.clear()
        self._sizes.clear()

    def __len__(self) -> int:
        """Frames in the window now."""
        return len(self._frames)

    def lift(self) -> Lifted | None:
        """The newest frame in 3D, or None until `min_frames` frames (at most `window`) have been pushed."""
        if len(self._frames) < min(self.options.min_frames, self.options.window):
            return None
        clip = torch.from_numpy(self._model_input()).to(device=self.device, dtype=self.dtype)[None]
        if self.options.flip:
            clip = torch.cat([clip, _mirror(clip)])
        with torch.inference_mode():
            representation = self.model.get_representation(clip)[:, -1]  # (batch, joints, dim_rep): newest frame
            joints = self.model.head(representation).float()
        if self.options.flip:
            joints = (joints[0] + _mirror(joints[1])) / 2
        else:
            joints = joints[0]
        joints = joints - joints[0]  # pelvis at the origin
        embedding = representation[0].float().mean(dim=0)
        return Lifted(joints.cpu().numpy(), embedding.cpu().numpy(), len(self._frames))

    def _model_input(self) -> np.ndarray:
        """The window as MotionBERT's (frames, 17, 3) input: missing joints resolved, then normalised."""
        clip = np.stack(self._frames)
        missing = missing_mask(clip)
        for index in range(1, len(clip)):  # carry each lost joint's last position, with no confidence
            carry = missing[index] & ~np.isnan(clip[index - 1, :, 0])
            clip[index, carry, :2] = clip[index - 1, carry, :2]
        unseen = np.isnan(clip[..., 0])
        if self.options.normalization == "box":
            clip = normalize_box(clip)
        else:
            clip = np.stack([normalize_screen(frame, *size) for frame, size in zip(clip, self._sizes, strict=True)])
        clip[unseen] = 0.0
        return clip.astype(np.float32)


def _mirror(joints: torch.Tensor) -> torch.Tensor:
    """Mirror left-right: x negated, left and right joints swapped (utils_data.flip_data)."""
    mirrored = joints.clone()
    mirrored[..., 0] *= -1
    mirrored[..., H36M_LEFT + H36M_RIGHT, :] = mirrored[..., H36M_RIGHT + H36M_LEFT, :]
    return mirrored
