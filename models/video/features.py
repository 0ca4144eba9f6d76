"""Clip features: camera frames in, the Video Swin backbone's pooled feature out.

Preprocessing is the checkpoint's (torchvision's `VideoClassification` preset): BGR to RGB, the
short side resized bilinearly (no antialiasing) to 256/224 of the crop, the centre square cropped,
scaled to 0..1 and normalised with the Kinetics mean and std, laid out (B, C, T, H, W).

`crop` is the per-frame part, so a live loop can shrink each kept frame as it arrives and buffer
small crops instead of camera frames; `features` does it all for one clip of raw frames.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np
import torch

from models.devices import place
from models.paths import weights_dir
from models.video.checkpoint import KINETICS_MEAN, KINETICS_STD, checkpoint_path, load_backbone
from models.video.clips import uniform_indices
from models.video.options import VideoOptions
from models.video.swin3d import VideoSwin3d

# torchvision's preset resizes the short side to 256 and crops 224: the crop keeps 7/8 of it.
_RESIZE_PER_CROP = 256 / 224


class ClipFeatures:
    """Turns clips of BGR frames into the backbone's pooled feature (768-d for Swin-T)."""

    def __init__(self, options: VideoOptions | None = None, backbone: VideoSwin3d | None = None) -> None:
        """Load the checkpoint that `options` names, or use `backbone` as given (tests, random
        networks); raises VideoModelUnavailable when the checkpoint is missing or does not fit."""
        self.options = options or VideoOptions()
        self.backbone_name = self.options.arch if backbone is None else "custom"
        if backbone is None:
            path = self.options.checkpoint or checkpoint_path(self.options.arch, weights_dir())
            backbone = load_backbone(path, self.options.arch)
        self.device, self.fallback_reason = place(backbone.eval(), self.options.device, "video Swin")
        if self.device.type == "cpu" and self.options.threads is not None:
            torch.set_num_threads(self.options.threads)
        self.model = backbone
        self.dim = backbone.config.num_features
        self._mean = torch.tensor(KINETICS_MEAN, device=self.device).view(1, 3, 1, 1, 1) * 255.0
        self._std = torch.tensor(KINETICS_STD, device=self.device).view(1, 3, 1, 1, 1) * 255.0
        self._autocast = self.device.type == "cuda" and self.options.half

    @property
    def feature_config(self) -> dict[str, str | int | float]:
        """What decides these features' meaning; a head records it when fitted and is checked against it."""
        return {"backbone": self.backbone_name, "dim": self.dim, "clip_length": self.options.clip_length,
                "input_size": self.options.input_size, "sample_rate_hz": self.options.sample_rate_hz}

    def crop(self, frame_bgr: np.ndarray) -> np.ndarray:
        """One (H, W, 3) uint8 BGR frame -> the (S, S, 3) uint8 RGB centre crop the backbone sees."""
        if frame_bgr.ndim != 3 or frame_bgr.shape[2] != 3:
            raise ValueError(f"expected an (H, W, 3) BGR frame, got shape {frame_bgr.shape}")
        size = self.options.input_size
        height, width = frame_bgr.shape[:2]
        short = round(size * _RESIZE_PER_CROP)
        # torchvision truncates the long side: int(256 * long / short)
        new_w, new_h = (short, int(short * height / width)) if width <= height else (int(short * width / height), short)
        resized = cv2.resize(frame_bgr, (new_w, new_h), interpolation=cv2.INTER_LINEAR)
        top, left = int(round((new_h - size) / 2.0)), int(round((new_w - size) / 2.0))
        return cv2.cvtColor(resized[top : top + size, left : left + size], cv2.COLOR_BGR2RGB)

    def features(self, frames: Sequence[np.ndarray]) -> np.ndarray:
        """(dim,) float32 feature of a clip of BGR frames (oldest first, any size).

        `clip_length` frames are taken evenly from those given, the last always among them (the
        head reads the phase at the last frame); pass them already sampled at `sample_rate_hz`
        (see `clips.clip_indices`) for the spacing the head was fitted on.
        """
        chosen = uniform_indices(len(frames), self.options.clip_length)
        clip = np.stack([self.crop(frames[i]) for i in chosen])
        return self.features_of_crops(clip[None])[0]

    def features_of_crops(self, clips: np.ndarray) -> np.ndarray:
        """(B, T, S, S, 3) uint8 RGB crops (from `crop`) -> (B, dim) float32 features, in one pass."""
        if clips.ndim != 5 or clips.shape[-1] != 3:
            raise ValueError(f"expected (B, T, S, S, 3) crops, got shape {clips.shape}")
        with torch.inference_mode(), torch.autocast(self.device.type, dtype=torch.float16, enabled=self._autocast):
            x = torch.from_numpy(np.ascontiguousarray(clips)).to(self.device)
            x = (x.permute(0, 4, 1, 2, 3).float() - self._mean) / self._std  # B, C, T, H, W
            feature = self.model.clip_features(x)
        return feature.float().cpu().numpy()
