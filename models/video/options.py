"""Settings of the video family (Video Swin clip features and the phase/technique head)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from models.paths import weights_dir


class VideoOptions(BaseModel):
    """Which Video Swin to load, how clips are cut and preprocessed, and where it runs.

    The defaults are the CPU fallback: 8 frames at 224 px. 224 keeps every attention window at the
    7x7 the checkpoint was trained with (smaller inputs shrink the last stage's windows), and 8
    frames cost a quarter of 16 (the time window, 8 tokens, spans all 16 frames' tokens then):
    Swin-T takes 0.55 s a clip on one thread of this 2-core machine (16 frames: 2.4 s), which
    pose can live beside at one clip every few seconds. `for_profile("full")` is the GPU setting,
    16 frames (about 1 s of movement at 15 Hz).
    A head is fitted for one (arch, clip_length, input_size), so each setting has its own head file.
    """

    arch: Literal["swin3d_t", "swin3d_s", "swin3d_b"] = Field(
        "swin3d_t", description="Backbone preset; its torchvision Kinetics-400 checkpoint is the weights."
    )
    checkpoint: Path | None = Field(
        None, description="The backbone's .pth; None: <models dir>/video/<the preset's torchvision file name>."
    )
    head: Path | None = Field(
        None, description="The phase/technique head (.npz); None: <models dir>/video/<head_name()>."
    )
    clip_length: int = Field(8, ge=1, description="Frames per clip fed to the backbone.")
    sample_rate_hz: float = Field(
        15.0, gt=0.0, description="Frames per second of video kept for a clip (every 2nd of a 30 fps camera): "
        "the rate the checkpoint was evaluated at, so 16 frames span about 1 s of movement."
    )
    input_size: int = Field(224, ge=32, description="Side of the square centre crop fed to the backbone, px.")
    device: str = Field("auto", description="Torch device: auto (CUDA when available, else CPU), cpu, cuda:0 ...")
    half: bool = Field(True, description="On CUDA, run matmuls in float16 (autocast); ignored on CPU.")
    threads: int | None = Field(
        1, ge=1, description="CPU only: torch intra-op threads, a process-wide setting; 1 leaves the other core "
        "to pose. None: torch's default."
    )

    @classmethod
    def for_profile(cls, profile: Literal["embedded", "full"]) -> VideoOptions:
        """The options a profile runs with: `full` is 16 frames at 224 px, on CUDA with float16 where there is one."""
        if profile == "full":
            return cls(clip_length=16, device="auto", threads=None)
        return cls()

    def head_name(self) -> str:
        """The default head file name, naming the features it was fitted on (e.g. clip_head-swin3d_t-16x224.npz)."""
        return f"clip_head-{self.arch}-{self.clip_length}x{self.input_size}.npz"

    def head_path(self) -> Path:
        """The head file: `head`, or <models dir>/video/<head_name()>."""
        return self.head or weights_dir() / "video" / self.head_name()
