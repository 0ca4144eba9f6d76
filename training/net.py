"""The skeleton action network: a small causal temporal convolution network over keypoint frames.

Input (batch, T, 51) from models.action.features.frame_features on a 30 fps clock. Two outputs:
  * `logits` (batch, classes): which exercise (or "other") the clip shows, from masked mean and
    max pooling over the frames that hold a body;
  * `progress` (batch, classes, T): per class and frame, how far the body is from that
    exercise's start position (0) towards its turning point (1): the bottom of a squat, the top
    of a curl. The coach reads the row of the exercise it counts; phases and counts follow from it
    in coaching.motion, whatever the view. One row per class, because one row for every class
    has to peak at whatever the person's arms or legs do: a squatter raising the arms between
    squats read as two reps a squat (docs/REAL_PEOPLE.md).
Convolutions are causal (each frame sees only itself and the past), so the live loop, which
has no future frames, reads exactly what training optimised. Receptive field: 67 frames, 2.2 s.
Progress output t is trained on frame t - LOOKAHEAD (scripts/train_skeleton.py): whether a frame
is a rep's turning point shows only once the body has turned, so the live loop reads it 0.5 s late.
"""

from __future__ import annotations

import torch
from torch import nn

from models.action.features import N_FEATURES, N_JOINTS

DILATIONS = (1, 2, 4, 8, 16)


class CausalConv(nn.Module):
    def __init__(self, cin: int, cout: int, kernel: int, dilation: int = 1) -> None:
        super().__init__()
        self.pad = (kernel - 1) * dilation
        self.conv = nn.Conv1d(cin, cout, kernel, dilation=dilation)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(nn.functional.pad(x, (self.pad, 0)))


class Block(nn.Module):
    """Residual: causal dilated conv → norm → ReLU → dropout, added to the input."""

    def __init__(self, width: int, dilation: int, dropout: float) -> None:
        super().__init__()
        self.conv = CausalConv(width, width, 3, dilation)
        self.norm = nn.BatchNorm1d(width)
        self.drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.drop(torch.relu(self.norm(self.conv(x))))


class SkeletonActionNet(nn.Module):
    def __init__(self, classes: int, width: int = 64, dropout: float = 0.1) -> None:
        super().__init__()
        self.stem = CausalConv(N_FEATURES, width, 5)
        self.stem_norm = nn.BatchNorm1d(width)
        self.blocks = nn.Sequential(*[Block(width, d, dropout) for d in DILATIONS])
        self.classify = nn.Sequential(nn.Linear(2 * width, width), nn.ReLU(), nn.Dropout(dropout),
                                      nn.Linear(width, classes))
        self.progress = nn.Conv1d(width, classes, 1)

    def forward(self, frames: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = frames.transpose(1, 2)  # (B, F, T)
        body = (x[:, 2 * N_JOINTS:].sum(dim=1, keepdim=True) > 0).float()  # (B, 1, T): a body in view
        h = self.blocks(torch.relu(self.stem_norm(self.stem(x))))
        count = body.sum(dim=2).clamp(min=1.0)
        mean = (h * body).sum(dim=2) / count
        peak = (h * body - (1.0 - body) * 1e4).amax(dim=2)
        logits = self.classify(torch.cat([mean, peak], dim=1))
        progress = torch.sigmoid(self.progress(h))
        return logits, progress


class MeanOfNets(nn.Module):
    """Several networks trained alike from different seeds, their logits and progress averaged.
    On ~75 held-out real sets one seed's rep counts differ from another's by up to 9 points of
    exact sets; the mean of two is steadier than either, at twice a ~1 ms reading."""

    def __init__(self, nets: list[SkeletonActionNet]) -> None:
        super().__init__()
        self.nets = nn.ModuleList(nets)

    def forward(self, frames: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        outputs = [net(frames) for net in self.nets]
        logits = torch.stack([o[0] for o in outputs]).mean(dim=0)
        progress = torch.stack([o[1] for o in outputs]).mean(dim=0)
        return logits, progress
