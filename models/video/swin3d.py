"""Video Swin Transformer (Liu et al., "Video Swin Transformer", CVPR 2022), for inference.

Written here in plain torch because torchvision has no build for this CPU torch. Module and
parameter names follow torchvision's `SwinTransformer3d`, so its published Kinetics-400 checkpoints
(`swin3d_t-7615ae03.pth` and the S/B ones) load with `load_state_dict(strict=True)`: the same
`patch_embed`, `features.<i>.<j>.attn...`, `norm` and `head` keys, the relative-position index
buffers included. Padding follows torchvision too: the patch embedding pads the clip to whole
patches, patch merging pads H and W to even, and attention pads (with zeros, after `norm1`,
unmasked, as the checkpoint was evaluated) to whole windows; a window larger than the feature
map shrinks to it and stops shifting on that axis.

One deliberate difference: where a window shrinks in H or W (inputs under 224 px: the last
stage's map is then under 7x7), the relative-position bias is looked up for the offsets that the
shrunk window really has; torchvision takes the top-left block of the full window's index, which
pairs tokens with the offsets of other positions. Both agree whenever only the time axis shrinks
or nothing does (16+ frames at 224 px, the evaluated setting).

The backbone is only ever run frozen, so dropout and stochastic depth (all that torchvision adds
for training) are left out; they are identities at inference.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

# Value added to the attention logits of token pairs that a shifted window joins across the
# clip's edge; the reference uses -100 (not -inf), and so must we to give its numbers.
_SHIFT_MASK = -100.0


@dataclass(frozen=True)
class SwinConfig:
    """The shape of a Video Swin network; the presets below are torchvision's swin3d_t/s/b."""

    patch_size: tuple[int, int, int] = (2, 4, 4)
    window_size: tuple[int, int, int] = (8, 7, 7)
    embed_dim: int = 96
    depths: tuple[int, ...] = (2, 2, 6, 2)
    num_heads: tuple[int, ...] = (3, 6, 12, 24)
    mlp_ratio: float = 4.0
    num_classes: int = 400

    @property
    def num_features(self) -> int:
        """Width of the pooled clip feature: the last stage's channels (768 for Swin-T)."""
        return self.embed_dim * 2 ** (len(self.depths) - 1)


SWIN3D_T = SwinConfig()
SWIN3D_S = SwinConfig(depths=(2, 2, 18, 2))
SWIN3D_B = SwinConfig(embed_dim=128, depths=(2, 2, 18, 2), num_heads=(4, 8, 16, 32))
CONFIGS: dict[str, SwinConfig] = {"swin3d_t": SWIN3D_T, "swin3d_s": SWIN3D_S, "swin3d_b": SWIN3D_B}


def _pad_to_multiple(sizes: tuple[int, ...], step: tuple[int, ...]) -> tuple[int, ...]:
    """How much to append on each axis so that `step` divides it."""
    return tuple((-size) % s for size, s in zip(sizes, step))


def relative_position_index(window: tuple[int, int, int], table_window: tuple[int, int, int]) -> Tensor:
    """(N, N) rows of the bias table for each token pair of a `window` (N tokens), in a table
    built for `table_window`: the table is indexed by the (dt, dh, dw) offset between two tokens."""
    grid = torch.stack(torch.meshgrid(*(torch.arange(w) for w in window), indexing="ij")).flatten(1)
    offsets = (grid[:, :, None] - grid[:, None, :]).permute(1, 2, 0)  # N, N, 3
    spans = [2 * w - 1 for w in table_window]
    shifted = offsets + torch.tensor([w - 1 for w in table_window])
    return shifted[..., 0] * spans[1] * spans[2] + shifted[..., 1] * spans[2] + shifted[..., 2]


def _shift_mask(padded: tuple[int, int, int], window: tuple[int, int, int], shift: tuple[int, int, int],
                device: torch.device) -> Tensor:
    """(windows, N, N) additive mask for a rolled map: tokens that came from different sides of
    the wrap-around may not attend to each other within one window."""
    labels = torch.zeros(padded, dtype=torch.long, device=device)
    for axis, (size, w, s) in enumerate(zip(padded, window, shift)):
        if s == 0:
            continue
        region = torch.zeros(size, dtype=torch.long, device=device)
        region[size - w : size - s] = 1
        region[size - s :] = 2
        labels = labels * 3 + region.view([-1 if a == axis else 1 for a in range(3)])
    windows = _partition(labels[None, ..., None], window).squeeze(-1)  # windows, N
    return (windows[:, None, :] != windows[:, :, None]).float() * _SHIFT_MASK


def _partition(x: Tensor, window: tuple[int, int, int]) -> Tensor:
    """(B, T, H, W, C) with window-divisible T, H, W -> (B * windows, N, C), windows in raster order."""
    b, t, h, w, c = x.shape
    wt, wh, ww = window
    x = x.view(b, t // wt, wt, h // wh, wh, w // ww, ww, c).permute(0, 1, 3, 5, 2, 4, 6, 7)
    return x.reshape(-1, wt * wh * ww, c)


def _merge(x: Tensor, window: tuple[int, int, int], padded: tuple[int, int, int], batch: int) -> Tensor:
    """Inverse of `_partition`."""
    wt, wh, ww = window
    t, h, w = padded
    x = x.view(batch, t // wt, h // wh, w // ww, wt, wh, ww, -1).permute(0, 1, 4, 2, 5, 3, 6, 7)
    return x.reshape(batch, t, h, w, -1)


class WindowAttention3d(nn.Module):
    """Multi-head self-attention within (shifted) 3D windows, with a learned relative-position bias."""

    def __init__(self, dim: int, num_heads: int, window: tuple[int, int, int], shift: tuple[int, int, int]) -> None:
        super().__init__()
        self.num_heads = num_heads
        self.window = window
        self.shift = shift
        self.qkv = nn.Linear(dim, dim * 3)
        self.proj = nn.Linear(dim, dim)
        table_rows = (2 * window[0] - 1) * (2 * window[1] - 1) * (2 * window[2] - 1)
        self.relative_position_bias_table = nn.Parameter(torch.zeros(table_rows, num_heads))
        nn.init.trunc_normal_(self.relative_position_bias_table, std=0.02)
        # Persistent, because the checkpoint holds it: strict loading needs the key.
        self.register_buffer("relative_position_index", relative_position_index(window, window))

    def forward(self, x: Tensor) -> Tensor:
        """(B, T, H, W, C) -> the same shape."""
        b, t, h, w, c = x.shape
        window = tuple(min(wi, size) for wi, size in zip(self.window, (t, h, w)))
        shift = tuple(0 if size <= wi else si for wi, si, size in zip(self.window, self.shift, (t, h, w)))
        pad = _pad_to_multiple((t, h, w), window)
        x = F.pad(x, (0, 0, 0, pad[2], 0, pad[1], 0, pad[0]))
        padded = (t + pad[0], h + pad[1], w + pad[2])
        if any(shift):
            x = torch.roll(x, shifts=tuple(-s for s in shift), dims=(1, 2, 3))

        tokens = _partition(x, window)  # B*nW, N, C
        n = tokens.shape[1]
        heads = self.num_heads
        qkv = self.qkv(tokens).view(b, -1, n, 3, heads, c // heads).permute(3, 0, 1, 4, 2, 5)
        mask = self._bias(window).to(qkv.dtype)  # heads, N, N
        if any(shift):
            mask = mask + _shift_mask(padded, window, shift, x.device).to(qkv.dtype)[:, None]  # nW, heads, N, N
        out = F.scaled_dot_product_attention(qkv[0], qkv[1], qkv[2], attn_mask=mask)  # B, nW, heads, N, d
        out = self.proj(out.transpose(2, 3).reshape(-1, n, c))

        x = _merge(out, window, padded, b)
        if any(shift):
            x = torch.roll(x, shifts=shift, dims=(1, 2, 3))
        return x[:, :t, :h, :w].contiguous()

    def _bias(self, window: tuple[int, ...]) -> Tensor:
        """(heads, N, N) relative-position bias for the window in use."""
        if window == self.window:
            index = self.relative_position_index
        else:
            index = relative_position_index(window, self.window).to(self.relative_position_index.device)
        n = index.shape[0]
        return self.relative_position_bias_table[index.flatten()].view(n, n, -1).permute(2, 0, 1)


class SwinBlock3d(nn.Module):
    """Pre-norm transformer block: windowed attention, then a GELU MLP, each with a residual."""

    def __init__(self, dim: int, num_heads: int, window: tuple[int, int, int], shift: tuple[int, int, int],
                 mlp_ratio: float) -> None:
        super().__init__()
        hidden = int(dim * mlp_ratio)
        self.norm1 = nn.LayerNorm(dim)
        self.attn = WindowAttention3d(dim, num_heads, window, shift)
        self.norm2 = nn.LayerNorm(dim)
        # Named "0" and "3" as in torchvision's MLP (Linear, GELU, Dropout, Linear, Dropout), whose
        # indices the checkpoint's keys carry.
        self.mlp = nn.Sequential(OrderedDict([("0", nn.Linear(dim, hidden)), ("gelu", nn.GELU()),
                                              ("3", nn.Linear(hidden, dim))]))

    def forward(self, x: Tensor) -> Tensor:
        """(B, T, H, W, C) -> the same shape."""
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class PatchMerging(nn.Module):
    """Halve H and W, double the channels: each 2x2 neighbourhood is concatenated and projected."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(4 * dim)
        self.reduction = nn.Linear(4 * dim, 2 * dim, bias=False)

    def forward(self, x: Tensor) -> Tensor:
        """(B, T, H, W, C) -> (B, T, ceil(H/2), ceil(W/2), 2C)."""
        h, w = x.shape[2:4]
        x = F.pad(x, (0, 0, 0, w % 2, 0, h % 2))
        # The order (even-even, odd-even, even-odd, odd-odd rows-columns) is the checkpoint's.
        x = torch.cat([x[:, :, 0::2, 0::2], x[:, :, 1::2, 0::2], x[:, :, 0::2, 1::2], x[:, :, 1::2, 1::2]], -1)
        return self.reduction(self.norm(x))


class PatchEmbed3d(nn.Module):
    """Cut the clip into (t, h, w) patches and project each to `embed_dim` channels."""

    def __init__(self, patch_size: tuple[int, int, int], embed_dim: int) -> None:
        super().__init__()
        self.patch_size = patch_size
        self.proj = nn.Conv3d(3, embed_dim, kernel_size=patch_size, stride=patch_size)
        self.norm = nn.LayerNorm(embed_dim)

    def forward(self, x: Tensor) -> Tensor:
        """(B, 3, T, H, W) -> (B, T', H', W', C), the clip zero-padded to whole patches first."""
        pad = _pad_to_multiple(tuple(x.shape[2:]), self.patch_size)
        x = F.pad(x, (0, pad[2], 0, pad[1], 0, pad[0]))
        return self.norm(self.proj(x).permute(0, 2, 3, 4, 1))


class VideoSwin3d(nn.Module):
    """Video Swin Transformer: clip (B, 3, T, H, W), normalised RGB, to a pooled feature and logits."""

    def __init__(self, config: SwinConfig = SWIN3D_T) -> None:
        super().__init__()
        self.config = config
        self.patch_embed = PatchEmbed3d(config.patch_size, config.embed_dim)
        half_window = tuple(w // 2 for w in config.window_size)
        layers: list[nn.Module] = []
        for stage, (depth, heads) in enumerate(zip(config.depths, config.num_heads)):
            dim = config.embed_dim * 2**stage
            layers.append(nn.Sequential(*(
                SwinBlock3d(dim, heads, config.window_size, (0, 0, 0) if i % 2 == 0 else half_window,
                            config.mlp_ratio)
                for i in range(depth)
            )))
            if stage < len(config.depths) - 1:
                layers.append(PatchMerging(dim))
        self.features = nn.Sequential(*layers)
        self.norm = nn.LayerNorm(config.num_features)
        self.head = nn.Linear(config.num_features, config.num_classes)
        for module in self.modules():
            if isinstance(module, nn.Linear):
                nn.init.trunc_normal_(module.weight, std=0.02)
                if module.bias is not None:
                    nn.init.zeros_(module.bias)

    def clip_features(self, clip: Tensor) -> Tensor:
        """(B, 3, T, H, W) -> (B, num_features): the final-norm tokens averaged over the clip,
        the input of the Kinetics-400 classifier (768-d for Swin-T)."""
        x = self.features(self.patch_embed(clip))
        return self.norm(x).mean(dim=(1, 2, 3))

    def forward(self, clip: Tensor) -> Tensor:
        """(B, 3, T, H, W) -> (B, num_classes) Kinetics-400 logits."""
        return self.head(self.clip_features(clip))


def build(arch: str) -> VideoSwin3d:
    """A randomly initialised network of a named preset: swin3d_t, swin3d_s or swin3d_b."""
    if arch not in CONFIGS:
        raise ValueError(f"unknown Video Swin preset {arch!r}; known: {', '.join(CONFIGS)}")
    return VideoSwin3d(CONFIGS[arch])


def swin3d_t() -> VideoSwin3d:
    """Swin-T: patch (2,4,4), window (8,7,7), embed 96, depths (2,2,6,2), heads (3,6,12,24); 28.2M parameters."""
    return VideoSwin3d(SWIN3D_T)


def swin3d_s() -> VideoSwin3d:
    """Swin-S: as Swin-T with 18 blocks in the third stage; 49.8M parameters."""
    return VideoSwin3d(SWIN3D_S)


def swin3d_b() -> VideoSwin3d:
    """Swin-B: embed 128, depths (2,2,18,2), heads (4,8,16,32); 88.0M parameters."""
    return VideoSwin3d(SWIN3D_B)
