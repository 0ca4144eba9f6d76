"""DSTformer, the motion encoder of MotionBERT (Zhu et al., ICCV 2023), for inference.

Written to reproduce Walter0807/MotionBERT `lib/model/DSTformer.py` as `lib/utils/learning.py`
builds it: the same module tree and parameter names, so `state_dict()` has exactly the keys and
shapes of a published checkpoint's `model_pos` entry (less DataParallel's `module.` prefix) and
`load_state_dict(strict=True)` takes the real file. LayerNorm uses eps 1e-6, as `load_backbone`
passes it. Dropout and stochastic depth are left out: every released configuration sets them to
zero, and they have no parameters, so the keys are unaffected.

Input is (batch, frames, 17, 3): Human3.6M joints as x, y in [-1, 1] and a confidence. Each frame's
joints attend to each other (spatial) and each joint attends to itself across frames (temporal);
two streams apply the two in opposite orders and a learned weight per joint mixes them.
"""

from __future__ import annotations

from collections import OrderedDict

import torch
import torch.nn.functional as F
from torch import nn

from models.lifting.options import DSTformerConfig

_LAYER_NORM_EPS = 1e-6


class MLP(nn.Module):
    """The transformer's feed-forward layer (keys fc1, fc2)."""

    def __init__(self, dim: int, hidden: int) -> None:
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.act(self.fc1(x)))


class Attention(nn.Module):
    """Multi-head self-attention over the joints of a frame or over the frames of a joint (keys qkv, proj)."""

    def __init__(self, dim: int, num_heads: int, temporal: bool) -> None:
        super().__init__()
        self.num_heads = num_heads
        self.temporal = temporal
        self.qkv = nn.Linear(dim, dim * 3)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor, frames: int) -> torch.Tensor:
        """x: (batch * frames, joints, dim), frames first within each batch item."""
        bf, joints, dim = x.shape
        heads, width = self.num_heads, dim // self.num_heads
        q, k, v = self.qkv(x).reshape(bf, joints, 3, heads, width).permute(2, 0, 3, 1, 4)  # (BF, H, J, d)
        if self.temporal:
            # (B, F, H, J, d) -> (B, H * J, F, d): attention runs along the frames of each joint and head
            # (4-D, which the fused CUDA kernels require).
            q, k, v = (
                t.reshape(-1, frames, heads, joints, width).permute(0, 2, 3, 1, 4).flatten(1, 2) for t in (q, k, v)
            )
            out = F.scaled_dot_product_attention(q, k, v).reshape(-1, heads, joints, frames, width)
            out = out.permute(0, 3, 2, 1, 4)  # (B, F, J, H, d)
        else:
            out = F.scaled_dot_product_attention(q, k, v).transpose(1, 2)  # (BF, J, H, d)
        return self.proj(out.reshape(bf, joints, dim))


class Block(nn.Module):
    """One stream's layer: spatial then temporal attention (or the reverse), each with its MLP."""

    def __init__(self, dim: int, num_heads: int, mlp_ratio: float, temporal_first: bool) -> None:
        super().__init__()
        self.temporal_first = temporal_first
        self.norm1_s = nn.LayerNorm(dim, eps=_LAYER_NORM_EPS)
        self.norm1_t = nn.LayerNorm(dim, eps=_LAYER_NORM_EPS)
        self.attn_s = Attention(dim, num_heads, temporal=False)
        self.attn_t = Attention(dim, num_heads, temporal=True)
        self.norm2_s = nn.LayerNorm(dim, eps=_LAYER_NORM_EPS)
        self.norm2_t = nn.LayerNorm(dim, eps=_LAYER_NORM_EPS)
        self.mlp_s = MLP(dim, int(dim * mlp_ratio))
        self.mlp_t = MLP(dim, int(dim * mlp_ratio))

    def forward(self, x: torch.Tensor, frames: int) -> torch.Tensor:
        if self.temporal_first:
            return self._spatial(self._temporal(x, frames), frames)
        return self._temporal(self._spatial(x, frames), frames)

    def _spatial(self, x: torch.Tensor, frames: int) -> torch.Tensor:
        x = x + self.attn_s(self.norm1_s(x), frames)
        return x + self.mlp_s(self.norm2_s(x))

    def _temporal(self, x: torch.Tensor, frames: int) -> torch.Tensor:
        x = x + self.attn_t(self.norm1_t(x), frames)
        return x + self.mlp_t(self.norm2_t(x))


class DSTformer(nn.Module):
    """Dual-stream spatio-temporal transformer with the 3D pose head.

    Keyword arguments are those of the repository's constructor; `DSTformer.lite()` is MotionBERT-Lite.
    Clips of any length up to `maxlen` frames are accepted.
    """

    def __init__(
        self,
        dim_in: int = 3,
        dim_out: int = 3,
        dim_feat: int = 256,
        dim_rep: int = 512,
        depth: int = 5,
        num_heads: int = 8,
        mlp_ratio: float = 4.0,
        num_joints: int = 17,
        maxlen: int = 243,
        att_fuse: bool = True,
    ) -> None:
        super().__init__()
        self.config = DSTformerConfig(
            dim_in=dim_in, dim_out=dim_out, dim_feat=dim_feat, dim_rep=dim_rep, depth=depth,
            num_heads=num_heads, mlp_ratio=mlp_ratio, num_joints=num_joints, maxlen=maxlen, att_fuse=att_fuse,
        )
        self.joints_embed = nn.Linear(dim_in, dim_feat)
        self.blocks_st = nn.ModuleList([Block(dim_feat, num_heads, mlp_ratio, False) for _ in range(depth)])
        self.blocks_ts = nn.ModuleList([Block(dim_feat, num_heads, mlp_ratio, True) for _ in range(depth)])
        self.norm = nn.LayerNorm(dim_feat, eps=_LAYER_NORM_EPS)
        self.pre_logits = nn.Sequential(OrderedDict([("fc", nn.Linear(dim_feat, dim_rep)), ("act", nn.Tanh())]))
        self.head = nn.Linear(dim_rep, dim_out)
        # Learned, not sinusoidal: random until a checkpoint is loaded, as in the original's init.
        self.temp_embed = nn.Parameter(nn.init.trunc_normal_(torch.zeros(1, maxlen, 1, dim_feat), std=0.02))
        self.pos_embed = nn.Parameter(nn.init.trunc_normal_(torch.zeros(1, num_joints, dim_feat), std=0.02))
        self.ts_attn = nn.ModuleList([nn.Linear(dim_feat * 2, 2) for _ in range(depth)]) if att_fuse else None

    @classmethod
    def lite(cls) -> DSTformer:
        """MotionBERT-Lite (configs/pose3d/MB_ft_h36m_global_lite.yaml): about 16.0M parameters."""
        return cls.from_config(DSTformerConfig())

    @classmethod
    def from_config(cls, config: DSTformerConfig) -> DSTformer:
        """The network a `DSTformerConfig` describes."""
        return cls(**config.model_dump())

    def get_representation(self, x: torch.Tensor) -> torch.Tensor:
        """The motion representation: (batch, frames, joints, dim_rep), in [-1, 1] (a tanh)."""
        batch, frames, joints, channels = x.shape
        if frames > self.config.maxlen:
            raise ValueError(f"clip of {frames} frames is longer than the model's {self.config.maxlen}")
        x = self.joints_embed(x.reshape(batch * frames, joints, channels)) + self.pos_embed
        x = (x.reshape(batch, frames, joints, -1) + self.temp_embed[:, :frames]).reshape(batch * frames, joints, -1)
        for index, (block_st, block_ts) in enumerate(zip(self.blocks_st, self.blocks_ts, strict=True)):
            x_st, x_ts = block_st(x, frames), block_ts(x, frames)
            if self.ts_attn is None:
                x = (x_st + x_ts) * 0.5
            else:
                alpha = self.ts_attn[index](torch.cat([x_st, x_ts], dim=-1)).softmax(dim=-1)
                x = x_st * alpha[..., 0:1] + x_ts * alpha[..., 1:2]
        x = self.norm(x).reshape(batch, frames, joints, -1)
        return self.pre_logits(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """3D joints (batch, frames, joints, dim_out) for 2D input (batch, frames, joints, dim_in)."""
        return self.head(self.get_representation(x))
