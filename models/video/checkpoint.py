"""Where the published Video Swin checkpoints come from, and loading one with errors that say what is wrong.

The files are torchvision's Kinetics-400 weights (ported from the paper's release). Their names
carry the first hex digits of the file's SHA-256 (`swin3d_t-7615ae03.pth`), torchvision's
convention, which `prepare_full` checks after downloading.
"""

from __future__ import annotations

import hashlib
import pickle
import re
import zipfile
from pathlib import Path

import torch

from models.video.swin3d import SwinConfig, VideoSwin3d, build

CHECKPOINT_URLS: dict[str, str] = {
    "swin3d_t": "https://download.pytorch.org/models/swin3d_t-7615ae03.pth",
    "swin3d_s": "https://download.pytorch.org/models/swin3d_s-da41c237.pth",
    "swin3d_b": "https://download.pytorch.org/models/swin3d_b_1k-24f7c7c6.pth",
}
# Mean and std of the RGB channels (0..1) the checkpoints were trained with; the same for all three.
KINETICS_MEAN = (0.485, 0.456, 0.406)
KINETICS_STD = (0.229, 0.224, 0.225)
_HASH_IN_NAME = re.compile(r"-([0-9a-f]{8,})\.pth$")
_SHOWN_KEYS = 4


class VideoModelUnavailable(RuntimeError):
    """The backbone or head cannot be loaded on this machine (the lead shows it as 'unavailable')."""


def video_dir(weights: Path) -> Path:
    """Where the video family keeps its files under the models directory."""
    return weights / "video"


def checkpoint_path(arch: str, weights: Path) -> Path:
    """Where `prepare_full` puts the named preset's checkpoint: <weights>/video/<file name of its URL>."""
    return video_dir(weights) / CHECKPOINT_URLS[arch].rsplit("/", 1)[1]


def hash_prefix(path: Path) -> str | None:
    """The SHA-256 prefix a torchvision-style file name promises, or None for a name without one."""
    match = _HASH_IN_NAME.search(path.name)
    return match.group(1) if match else None


def verify_hash(path: Path) -> None:
    """Raise VideoModelUnavailable unless the file's SHA-256 starts with the prefix in its name."""
    expected = hash_prefix(path)
    if expected is None:
        return
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    if not digest.hexdigest().startswith(expected):
        raise VideoModelUnavailable(
            f"{path} is corrupt: its SHA-256 starts {digest.hexdigest()[:len(expected)]}, the name says {expected}; "
            "delete it and run the full profile's setup again"
        )


def read_state_dict(path: Path) -> dict[str, torch.Tensor]:
    """The tensors in a checkpoint file (a plain state dict; nothing else is unpickled)."""
    if not path.is_file():
        raise VideoModelUnavailable(
            f"Video Swin checkpoint {path} is missing: run models.video.prepare_full (the full profile's setup) "
            "on a machine with the internet to download torchvision's Kinetics-400 weights, or set "
            "VideoOptions.checkpoint"
        )
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except (RuntimeError, pickle.UnpicklingError, zipfile.BadZipFile, EOFError, ValueError) as error:
        raise VideoModelUnavailable(f"{path} is corrupt or not a torch checkpoint ({error}); delete it and "
                                    "download it again") from error
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise VideoModelUnavailable(f"{path} is not a state dict of tensors")
    return state


def load_backbone(path: Path, config: SwinConfig | str = "swin3d_t") -> VideoSwin3d:
    """A network of `config` (or a preset name) with the checkpoint's weights, strictly: every key
    present, none extra, every shape equal; else VideoModelUnavailable naming a few offenders."""
    model = build(config) if isinstance(config, str) else VideoSwin3d(config)
    state = read_state_dict(path)
    expected = model.state_dict()
    problems = []
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    reshaped = [f"{k} {tuple(state[k].shape)} vs {tuple(v.shape)}"
                for k, v in expected.items() if k in state and state[k].shape != v.shape]
    for label, keys in (("missing", missing), ("unexpected", unexpected), ("wrong shape", reshaped)):
        if keys:
            more = f" and {len(keys) - _SHOWN_KEYS} more" if len(keys) > _SHOWN_KEYS else ""
            problems.append(f"{len(keys)} {label}: {', '.join(keys[:_SHOWN_KEYS])}{more}")
    if problems:
        raise VideoModelUnavailable(f"{path} does not fit this Video Swin configuration ({model.config}): "
                                    + "; ".join(problems))
    model.load_state_dict(state, strict=True)
    return model.eval()
