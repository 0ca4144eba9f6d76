"""Which exercise is the person doing? A small classifier over the last ~1.5 s of pose features.

The model is a one-hidden-layer perceptron (trained by scripts/train_recognizer.py on real
labelled keypoints from pose-classification-kit and on kinematic sequences) whose weights are a
small .npz, run here in plain numpy. The online part turns per-window probabilities into a
decision the coach can act on: a new exercise is announced only when it has won every
classification for `stable_s` with enough probability, and "idle" (standing, resting, anything
else) never changes the exercise, so a rest between sets does not reset the coaching.
"""

from __future__ import annotations

from collections import deque
from pathlib import Path

import numpy as np
from pydantic import BaseModel, Field

from coaching.pose_features import FRAME_FEATURES, WINDOW_FEATURES, frame_features, window_features

IDLE = "idle"
DEFAULT_PARAMS = Path(__file__).with_name("recognizer_params.npz")


class Recognition(BaseModel):
    """A recogniser's decision: this exercise, this sure (0-1)."""

    exercise: str
    confidence: float


class RecognizerModel:
    """Standardisation + MLP (ReLU hidden layers, softmax output) over window features."""

    def __init__(self, classes: list[str], mean: np.ndarray, scale: np.ndarray,
                 weights: list[np.ndarray], biases: list[np.ndarray], window_s: float) -> None:
        if len(mean) != len(WINDOW_FEATURES) or weights[0].shape[0] != len(WINDOW_FEATURES):
            raise ValueError("recogniser parameters do not match the current pose features; retrain "
                             "with scripts/train_recognizer.py")
        self.classes = list(classes)
        self.mean, self.scale = mean.astype(np.float64), scale.astype(np.float64)
        self.weights = [w.astype(np.float64) for w in weights]
        self.biases = [b.astype(np.float64) for b in biases]
        self.window_s = float(window_s)

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        """(N, features) window features (NaN allowed) → (N, classes) probabilities."""
        z = (np.atleast_2d(x) - self.mean) / self.scale
        z = np.nan_to_num(z, nan=0.0, posinf=0.0, neginf=0.0)  # unseen = the training average
        for w, b in zip(self.weights[:-1], self.biases[:-1]):
            z = np.maximum(z @ w + b, 0.0)
        logits = z @ self.weights[-1] + self.biases[-1]
        logits -= logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        return p / p.sum(axis=1, keepdims=True)

    def save(self, path: Path) -> None:
        arrays = {"classes": np.array(self.classes), "mean": self.mean.astype(np.float32),
                  "scale": self.scale.astype(np.float32), "window_s": np.array(self.window_s),
                  "features": np.array(FRAME_FEATURES)}
        for i, (w, b) in enumerate(zip(self.weights, self.biases)):
            arrays[f"w{i}"], arrays[f"b{i}"] = w.astype(np.float32), b.astype(np.float32)
        with open(path, "wb") as f:
            np.savez_compressed(f, **arrays)

    @classmethod
    def load(cls, path: Path | None = None) -> RecognizerModel:
        path = Path(path or DEFAULT_PARAMS)
        if not path.exists():
            raise FileNotFoundError(f"no exercise recogniser parameters at {path}; "
                                    "train them with: python scripts/train_recognizer.py")
        with np.load(path, allow_pickle=False) as z:
            if tuple(z["features"]) != FRAME_FEATURES:
                raise ValueError(f"{path} was trained on other pose features; retrain it")
            layers = sum(1 for k in z.files if k[0] == "w" and k[1:].isdigit())
            return cls([str(c) for c in z["classes"]], z["mean"], z["scale"],
                       [z[f"w{i}"] for i in range(layers)], [z[f"b{i}"] for i in range(layers)],
                       float(z["window_s"]))


class RecognizerOptions(BaseModel):
    """hop_s: how often to classify. min_probability: a window's winner must be at least this sure.
    stable_s: the same winner for this long before the exercise changes. min_coverage: fraction
    of the window that must have frames (a person) to classify at all."""

    hop_s: float = Field(0.25, gt=0)
    min_probability: float = Field(0.6, ge=0, le=1)
    stable_s: float = Field(1.5, ge=0)
    min_coverage: float = Field(0.6, ge=0, le=1)
    fps_hint: float = 30.0


class ExerciseRecognizer:
    """Online recognition: feed frames with update(); a Recognition comes back when the exercise changes."""

    def __init__(self, model: RecognizerModel, options: RecognizerOptions | None = None) -> None:
        self.model = model
        self.options = options or RecognizerOptions()
        self._pending: list[tuple[float, np.ndarray, int, int]] = []
        self._frames: deque[tuple[float, np.ndarray]] = deque()
        self._votes: deque[tuple[float, str, float]] = deque()
        self._next_t: float | None = None
        self.current: str | None = None
        self.last_probabilities: dict[str, float] = {}

    @classmethod
    def load(cls, path: Path | None = None, options: RecognizerOptions | None = None) -> ExerciseRecognizer:
        return cls(RecognizerModel.load(path), options)

    def reset(self) -> None:
        self._pending.clear()
        self._frames.clear()
        self._votes.clear()
        self._next_t = None
        self.current = None
        self.last_probabilities = {}

    def update(self, keypoints: np.ndarray | None, width: int, height: int, t: float) -> Recognition | None:
        if keypoints is not None:
            self._pending.append((t, np.asarray(keypoints, dtype=np.float64), width, height))
        if self._next_t is None:
            self._next_t = t + self.options.hop_s
        if t < self._next_t:
            return None
        self._next_t = t + self.options.hop_s
        self._featurise()
        window = self.model.window_s
        while self._frames and t - self._frames[0][0] > window:
            self._frames.popleft()
        expected = window * self.options.fps_hint
        if len(self._frames) < self.options.min_coverage * expected * min(1.0, self._rate_factor()):
            self._votes.clear()
            return None
        x = window_features(np.stack([f for _, f in self._frames]))
        p = self.model.predict_proba(x[None])[0]
        self.last_probabilities = {c: round(float(v), 3) for c, v in zip(self.model.classes, p)}
        k = int(np.argmax(p))
        return self._vote(t, self.model.classes[k], float(p[k]))

    def _rate_factor(self) -> float:
        """Frames actually arriving per second over the hint (a slow pose model delivers fewer)."""
        if len(self._frames) < 2:
            return 1.0
        span = self._frames[-1][0] - self._frames[0][0]
        return (len(self._frames) - 1) / span / self.options.fps_hint if span > 0 else 1.0

    def _featurise(self) -> None:
        """Features of the frames received since the last hop, in one vectorised batch."""
        if not self._pending:
            return
        groups: dict[tuple[int, int], list[tuple[float, np.ndarray]]] = {}
        for t, kp, w, h in self._pending:
            groups.setdefault((w, h), []).append((t, kp))
        self._pending.clear()
        for (w, h), items in groups.items():
            feats = frame_features(np.stack([kp for _, kp in items]), w, h)
            self._frames.extend((t, f) for (t, _), f in zip(items, feats))
        self._frames = deque(sorted(self._frames, key=lambda x: x[0]))

    def _vote(self, t: float, label: str, p: float) -> Recognition | None:
        self._votes.append((t, label, p))
        while self._votes and t - self._votes[0][0] > self.options.stable_s:
            self._votes.popleft()
        span = t - self._votes[0][0]
        agree = all(v[1] == label and v[2] >= self.options.min_probability for v in self._votes)
        if not agree or span < self.options.stable_s - self.options.hop_s or label in (IDLE, self.current):
            return None
        self.current = label
        return Recognition(exercise=label, confidence=float(np.mean([v[2] for v in self._votes])))
