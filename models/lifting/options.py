"""Settings of the 3D lifting family (MotionBERT-Lite), with the defaults the embedded profile runs on."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, model_validator

# The authors' own Hub mirror of their OneDrive model zoo (README badge of Walter0807/MotionBERT).
# The revision pins the commit that uploaded the weights (13ac6c1) plus a README edit, so a later
# push to the repository cannot change what setup fetches.
HUB_REPO = "walterzhu/MotionBERT"
HUB_REVISION = "370a9196aa3c89198b134c82476143b01c0fb32c"
# MotionBERT-Lite fine-tuned on Human3.6M with global (not root-relative) output: the checkpoint
# infer_wild.py loads by default, trained with configs/pose3d/MB_ft_h36m_global_lite.yaml.
HUB_FILENAME = "checkpoint/pose3d/FT_MB_lite_MB_ft_h36m_global_lite/best_epoch.bin"
ONEDRIVE_URL = "https://1drv.ms/f/s!AvAdh0LSjEOlgT67igq_cIoYvO2y?e=bfEc73"


class DSTformerConfig(BaseModel):
    """The network's shape. The defaults are MotionBERT-Lite (MB_ft_h36m_global_lite.yaml): they must
    match the checkpoint exactly, or loading it fails with the keys and shapes that differ."""

    dim_in: int = Field(3, ge=1, description="Channels per input joint: x, y, confidence.")
    dim_out: int = Field(3, ge=1, description="Channels per output joint: x, y, z.")
    dim_feat: int = Field(256, ge=1, description="Width of the transformer (512 in full MotionBERT).")
    dim_rep: int = Field(512, ge=1, description="Width of the motion representation per joint per frame.")
    depth: int = Field(5, ge=1, description="Dual-stream blocks.")
    num_heads: int = Field(8, ge=1, description="Attention heads; must divide dim_feat.")
    mlp_ratio: float = Field(4.0, gt=0.0, description="MLP hidden width as a multiple of dim_feat.")
    num_joints: int = Field(17, ge=1, description="Joints per frame (Human3.6M-17).")
    maxlen: int = Field(243, ge=1, description="Longest clip the temporal embedding covers.")
    att_fuse: bool = Field(True, description="Learned per-block weighting of the two streams (else their mean).")

    @model_validator(mode="after")
    def _heads_divide_width(self) -> DSTformerConfig:
        if self.dim_feat % self.num_heads:
            raise ValueError(f"num_heads ({self.num_heads}) must divide dim_feat ({self.dim_feat})")
        return self


class LiftingOptions(BaseModel):
    """How the lifting family loads and runs.

    The defaults are the CPU's: a 27-frame window on one thread without flip averaging, about
    160 ms a lift on one core of the 2-core development machine (81 frames: ~490 ms), so the scene
    reader lifts a few times a second at most. `for_profile("full")` gives the GPU one.
    """

    checkpoint: Path | None = Field(
        None,
        description="The MotionBERT checkpoint file. None: <models dir>/lifting/" + HUB_FILENAME
        + " (where prepare_full puts it).",
    )
    hub_repo: str = Field(HUB_REPO, description="Hub repository prepare_full downloads from.")
    hub_revision: str = Field(HUB_REVISION, description="Commit of hub_repo to download.")
    hub_filename: str = Field(HUB_FILENAME, description="The checkpoint's path inside hub_repo.")
    architecture: DSTformerConfig = Field(
        default_factory=DSTformerConfig, description="Network shape; the default is MotionBERT-Lite."
    )
    window: int = Field(
        27,
        ge=1,
        le=243,
        description="Frames the lifter looks at: the newest frame and up to window-1 before it. Attention "
        "cost grows with its square; the published model was trained on 243 (about 8 s at 30 fps).",
    )
    min_frames: int = Field(
        9, ge=1, description="Frames needed before lift() answers; clamped to window. Fewer frames give "
        "the model less motion to go on, so the first few lifts are the least reliable.",
    )
    normalization: Literal["screen", "box"] = Field(
        "screen",
        description="screen: centre of the image to 0, half its short side to 1 (infer_wild.py --pixel; the "
        "same as the Human3.6M image coordinates the checkpoint was fine-tuned on, and steady while the "
        "window slides). box: the box around every joint in the window to [-1, 1] (infer_wild.py's default, "
        "crop_scale: independent of how large the person is in the frame, but rescaled as the window moves).",
    )
    flip: bool = Field(
        False,
        description="Average with the prediction for the mirrored input, as infer_wild.py does (config "
        "`flip: True`). Both run as one batch of two: about twice the CPU time, little more on a GPU.",
    )
    device: str = Field("auto", description="Torch device: auto (CUDA when available, else CPU), cpu, cuda:1 ...")
    half: bool = Field(True, description="Run in float16 on CUDA (ignored on CPU, where float16 is slower).")
    threads: int | None = Field(
        1,
        ge=1,
        description="Torch intra-op threads on CPU. A process-wide setting, applied when a lifter is made; "
        "None leaves torch's default.",
    )

    @classmethod
    def for_profile(cls, profile: Literal["embedded", "full"]) -> LiftingOptions:
        """The options a profile runs with: `full` looks at 81 frames and flip-averages, on a GPU if any."""
        if profile == "full":
            return cls(window=81, flip=True, threads=4)
        return cls()

    def checkpoint_path(self, weights: Path) -> Path:
        """The checkpoint file to load: `checkpoint`, or where prepare_full puts it under `weights`."""
        return self.checkpoint if self.checkpoint is not None else weights / "lifting" / self.hub_filename
