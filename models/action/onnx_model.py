"""The shipped skeleton action model, run with onnxruntime on the CPU (one thread: it is tiny)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from models.action.features import FPS, MIN_CONFIDENCE, frame_features, mirrored, resample

MODEL_FILE = "skeleton_action.onnx"
DEFAULT_PATH = Path(__file__).with_name(MODEL_FILE)
WINDOW = 96  # frames on the FPS clock the model reads at once (3.2 s; its receptive field is 2.2 s)


@dataclass(frozen=True)
class ActionOutput:
    """probabilities: (classes,) over the window; progress: (classes, WINDOW), each exercise's rep
    progress per tick, the newest last: column i is the progress of the tick `lookahead` ticks
    before tick i (the model judges a frame once it has seen how the movement went on)."""

    probabilities: np.ndarray
    progress: np.ndarray
    body_frames: int
    """Ticks of the window that held a body (the rest were empty)."""


class SkeletonActionModel:
    """Reads the last WINDOW ticks of a person's keypoints. Holds no per-person state, and
    onnxruntime runs one session from several threads: one instance serves every session.

    Each reading is the mean of the network's reading of the window and of its mirror image. The
    network learned both from augmented data but does not answer them alike: on the real counted
    sets a mirrored recording counted differently in a quarter of the sets. Averaged, a selfie
    camera and a plain one read the same (~1 ms more a frame on these 2 cores)."""

    fps = FPS
    window = WINDOW
    min_confidence = MIN_CONFIDENCE

    def __init__(self, path: Path = DEFAULT_PATH) -> None:
        from models.pose.session import create_session

        if not path.is_file():
            raise FileNotFoundError(f"no skeleton action model at {path}; train it with "
                                    "python scripts/train_skeleton.py")
        self.session = create_session(path, threads=1, providers=["CPUExecutionProvider"])
        meta = self.session.get_modelmeta().custom_metadata_map
        self.classes: list[str] = json.loads(meta["classes"])
        self.lookahead = int(meta.get("lookahead", 0))
        self.card: dict[str, object] = json.loads(meta.get("card", "{}"))

    @classmethod
    def load(cls, path: Path | None = None) -> SkeletonActionModel:
        return cls(path or DEFAULT_PATH)

    @staticmethod
    def featurise(keypoints: np.ndarray) -> np.ndarray:
        """(N, 17, 3) keypoints → (N, 51) input rows: computed once per frame as it arrives."""
        return frame_features(keypoints)

    def read(self, times: np.ndarray, features: np.ndarray, t: float) -> ActionOutput:
        """times (M,) ascending seconds and featurise()d rows (M, 51) of the recent frames; t: now."""
        return self._run(resample(times, features, t, WINDOW, empty=0.0).astype(np.float32))

    def read_ticks(self, frames: np.ndarray) -> ActionOutput:
        """frames (T, 17, 3) already on the model's clock (training and offline evaluation)."""
        return self._run(frame_features(frames))

    def _run(self, x: np.ndarray) -> ActionOutput:
        probabilities, progress = zip(*(self._run_once(v) for v in (x, mirrored(x))))
        return ActionOutput(np.mean(probabilities, axis=0), np.mean(progress, axis=0),
                            int((x[:, 34:].sum(axis=1) > 0).sum()))

    def _run_once(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        logits, progress = self.session.run(None, {"frames": x[None]})
        z = logits[0] - logits[0].max()
        return np.exp(z) / np.exp(z).sum(), progress[0]


def write_metadata(path: Path, props: dict[str, str]) -> None:
    """Store the class list and the model card inside the ONNX file, so they cannot be separated."""
    import onnx

    model = onnx.load(str(path))
    del model.metadata_props[:]
    for key, value in props.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.save(model, str(path))
