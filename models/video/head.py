"""A small head over the clip feature: the movement phase at the clip's last frame, and the technique.

Two softmax regressions on the standardised feature, one per question, because their labels come
from different videos (phase from rep-marked clips, technique from clips labelled correct/wrong).
Fitted with torch (a linear layer, full-batch Adam, a few hundred steps, seeded: the same data
gives the same file), stored as a small .npz and run with numpy alone, so reading a clip costs
no torch call beyond the backbone's. The file records the features it was fitted on (backbone,
clip length, input size, sample rate); a head read on other features would be wrong silently.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from models.video.checkpoint import VideoModelUnavailable

PHASES: tuple[str, ...] = ("rest", "middle", "turn")
TECHNIQUES: tuple[str, ...] = ("correct", "wrong")


@dataclass(frozen=True, slots=True)
class ClipReading:
    """What the head reads from one clip: each label with the probabilities of all of them."""

    phase: str
    phase_probabilities: dict[str, float]
    technique: str
    technique_probabilities: dict[str, float]


def _softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)


class ClipHead:
    """Phase and technique from a clip feature; build with `fit_head` or `ClipHead.load`."""

    def __init__(self, mean: np.ndarray, scale: np.ndarray, phase: tuple[np.ndarray, np.ndarray],
                 technique: tuple[np.ndarray, np.ndarray], feature_config: dict[str, Any]) -> None:
        """`phase` and `technique` are (weight (classes, dim), bias (classes,)) on (x - mean) / scale."""
        self.mean = mean.astype(np.float32)
        self.scale = scale.astype(np.float32)
        self.phase_weight, self.phase_bias = (a.astype(np.float32) for a in phase)
        self.technique_weight, self.technique_bias = (a.astype(np.float32) for a in technique)
        self.feature_config = feature_config

    @property
    def dim(self) -> int:
        """Length of the feature the head reads."""
        return int(self.mean.shape[0])

    def probabilities(self, features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(N, dim) features -> phase (N, 3) and technique (N, 2) probabilities, in PHASES / TECHNIQUES order."""
        x = (np.asarray(features, dtype=np.float32) - self.mean) / self.scale
        return (_softmax(x @ self.phase_weight.T + self.phase_bias),
                _softmax(x @ self.technique_weight.T + self.technique_bias))

    def predict(self, feature: np.ndarray) -> ClipReading:
        """Read one (dim,) clip feature."""
        if feature.shape != (self.dim,):
            raise ValueError(f"expected a ({self.dim},) feature, got shape {feature.shape}")
        phase, technique = (p[0] for p in self.probabilities(feature[None]))
        return ClipReading(
            phase=PHASES[int(phase.argmax())],
            phase_probabilities={name: float(p) for name, p in zip(PHASES, phase)},
            technique=TECHNIQUES[int(technique.argmax())],
            technique_probabilities={name: float(p) for name, p in zip(TECHNIQUES, technique)},
        )

    def save(self, path: Path) -> None:
        """Write the head as an .npz (a few kB per feature dimension), atomically."""
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + ".partial.npz")
        np.savez(partial, mean=self.mean, scale=self.scale, phase_weight=self.phase_weight,
                 phase_bias=self.phase_bias, technique_weight=self.technique_weight,
                 technique_bias=self.technique_bias, feature_config=np.array(json.dumps(self.feature_config)))
        partial.replace(path)

    @classmethod
    def load(cls, path: Path) -> ClipHead:
        """Read a head written by `save`; VideoModelUnavailable when absent or unreadable."""
        if not path.is_file():
            raise VideoModelUnavailable(f"video head {path} is missing: fit one with scripts/train_video_head.py")
        try:
            with np.load(path, allow_pickle=False) as data:
                return cls(data["mean"], data["scale"], (data["phase_weight"], data["phase_bias"]),
                           (data["technique_weight"], data["technique_bias"]),
                           json.loads(str(data["feature_config"])))
        except (OSError, KeyError, ValueError) as error:
            raise VideoModelUnavailable(f"video head {path} is unreadable ({error})") from error

    def check_features(self, feature_config: dict[str, Any]) -> None:
        """Raise VideoModelUnavailable unless the head was fitted on features made this way."""
        if feature_config != self.feature_config:
            raise VideoModelUnavailable(f"the video head was fitted on features {self.feature_config}, "
                                        f"these are {feature_config}")


def _fit_softmax(x: torch.Tensor, labels: np.ndarray, classes: int, steps: int, l2: float,
                 generator: torch.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Class-balanced softmax regression: each class weighs the same however rare (turns are brief)."""
    y = torch.from_numpy(np.asarray(labels, dtype=np.int64))
    if y.numel() != x.shape[0] or y.min() < 0 or y.max() >= classes:
        raise ValueError(f"need one label in 0..{classes - 1} per feature")
    counts = torch.bincount(y, minlength=classes).float()
    weight = torch.where(counts > 0, counts.sum() / (classes * counts.clamp(min=1)), torch.zeros(()))
    layer = torch.nn.Linear(x.shape[1], classes)
    with torch.no_grad():
        layer.weight.normal_(0.0, 0.01, generator=generator)
        layer.bias.zero_()
    optimiser = torch.optim.Adam(layer.parameters(), lr=0.01)
    for _ in range(steps):
        optimiser.zero_grad()
        loss = torch.nn.functional.cross_entropy(layer(x), y, weight=weight) + l2 * layer.weight.square().sum()
        loss.backward()
        optimiser.step()
    return layer.weight.detach().numpy(), layer.bias.detach().numpy()


def fit_head(phase_features: np.ndarray, phase_labels: np.ndarray, technique_features: np.ndarray,
             technique_labels: np.ndarray, feature_config: dict[str, Any], *, steps: int = 300,
             l2: float = 1e-3, seed: int = 0) -> ClipHead:
    """Fit both regressions; labels index PHASES and TECHNIQUES. Features are standardised with the
    mean and spread of all of them together, which the head keeps to apply at run time."""
    if len(phase_features) == 0 or len(technique_features) == 0:
        raise ValueError("fitting the head needs phase and technique examples both")
    everything = np.concatenate([phase_features, technique_features]).astype(np.float32)
    mean = everything.mean(axis=0)
    scale = everything.std(axis=0) + 1e-6
    generator = torch.Generator().manual_seed(seed)

    def standard(features: np.ndarray) -> torch.Tensor:
        return torch.from_numpy((np.asarray(features, dtype=np.float32) - mean) / scale)

    with torch.enable_grad():
        phase = _fit_softmax(standard(phase_features), phase_labels, len(PHASES), steps, l2, generator)
        technique = _fit_softmax(standard(technique_features), technique_labels, len(TECHNIQUES), steps, l2,
                                 generator)
    return ClipHead(mean, scale, phase, technique, feature_config)
