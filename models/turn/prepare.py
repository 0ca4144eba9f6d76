"""Fill `weights/turn/` with Smart Turn v3.2 taken out of the `pipecat-ai` wheel, licence beside it.

The wheel (12 MB) is downloaded with `pip download --no-deps` and opened as a zip: only the ONNX
file (8.7 MB) and the package's BSD-2-Clause licence are kept; Pipecat itself is not installed.
"""

from __future__ import annotations

import hashlib
import tempfile
import zipfile
from pathlib import Path

from models.turn.smart_turn import MODEL_SHA256
from models.wheels import download_wheel

PACKAGE = "pipecat-ai==1.14.0"
MEMBER = "pipecat/audio/turn/smart_turn/data/smart-turn-v3.2-cpu.onnx"
LICENSE_MEMBER = "pipecat_ai-1.14.0.dist-info/licenses/LICENSE"
MODEL_FILE = "smart-turn-v3.2-cpu.onnx"


def embedded_model_path(weights: Path) -> Path:
    return weights / "turn" / MODEL_FILE


def prepare_embedded(weights: Path) -> None:
    """Download, extract and verify the model; a no-op when the verified copy is already there."""
    target = embedded_model_path(weights)
    if target.is_file() and _sha256(target.read_bytes()) == MODEL_SHA256:
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="smart-turn-") as tmp:
        with zipfile.ZipFile(download_wheel(PACKAGE, Path(tmp))) as wheel:
            model = wheel.read(MEMBER)
            licence = wheel.read(LICENSE_MEMBER)
    if _sha256(model) != MODEL_SHA256:
        raise RuntimeError(f"{MEMBER} in {PACKAGE} is not the Smart Turn v3.2 model this code was written for")
    (target.parent / "LICENSE-smart-turn.txt").write_bytes(licence)
    partial = target.with_suffix(".part")
    partial.write_bytes(model)
    partial.replace(target)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
