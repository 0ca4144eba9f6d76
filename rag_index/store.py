"""The built index on disk: embeddings.npy, chunks.json and manifest.json in one directory.

The manifest records what the index was built from (corpus hash, embedding model and its
fingerprint, chunk size, format version) so staleness is a comparison, not a rebuild. A new
index is written to a sibling directory and swapped in by renames, so a reader never sees
embeddings from one build next to chunks from another.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from pydantic import BaseModel, Field, ValidationError

from rag_index.chunking import Chunk

INDEX_DIR = Path(__file__).resolve().parent / "index"

MANIFEST = "manifest.json"
CHUNKS = "chunks.json"
EMBEDDINGS = "embeddings.npy"

# Bump when chunking or the file layout changes, so old indexes are rebuilt.
FORMAT_VERSION = 1


class IndexUnavailable(RuntimeError):
    """No usable index and it could not (or may not) be built; the message says what to do."""


class IndexManifest(BaseModel):
    """What an index was built from; two manifests with equal keys describe the same index."""

    format_version: int = FORMAT_VERSION
    corpus_hash: str
    model_id: str
    model_fingerprint: str
    chunk_words: int
    dim: int
    n_documents: int
    n_chunks: int
    built_at: str = Field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))

    def key(self) -> tuple[int, str, str, str, int]:
        return (self.format_version, self.corpus_hash, self.model_id, self.model_fingerprint, self.chunk_words)


class StoredIndex(BaseModel, arbitrary_types_allowed=True):
    manifest: IndexManifest
    chunks: list[Chunk]
    embeddings: np.ndarray


def read_manifest(index_dir: Path) -> IndexManifest | None:
    """The manifest, or None when there is none or it cannot be read."""
    try:
        return IndexManifest.model_validate_json((index_dir / MANIFEST).read_bytes())
    except (OSError, ValidationError):
        return None


def read_index(index_dir: Path) -> StoredIndex:
    """Load an index; `IndexUnavailable` when files are missing, unreadable or inconsistent."""
    manifest = read_manifest(index_dir)
    if manifest is None:
        raise IndexUnavailable(f"{index_dir}: no readable {MANIFEST}; build it with `python -m rag_index.build`")
    try:
        chunks = [Chunk.model_validate(item) for item in json.loads((index_dir / CHUNKS).read_text(encoding="utf-8"))]
        embeddings = np.load(index_dir / EMBEDDINGS, allow_pickle=False)
    except (OSError, ValueError, ValidationError) as exc:
        raise IndexUnavailable(f"{index_dir}: unreadable index ({exc}); rebuild with `python -m rag_index.build --force`") from exc
    if embeddings.shape != (len(chunks), manifest.dim) or len(chunks) != manifest.n_chunks:
        raise IndexUnavailable(
            f"{index_dir}: index files disagree (embeddings {embeddings.shape}, {len(chunks)} chunks, "
            f"manifest {manifest.n_chunks}x{manifest.dim}); rebuild with `python -m rag_index.build --force`"
        )
    return StoredIndex(manifest=manifest, chunks=chunks, embeddings=embeddings.astype(np.float32, copy=False))


def write_index(index_dir: Path, manifest: IndexManifest, chunks: list[Chunk], embeddings: np.ndarray) -> None:
    """Write a complete index next to `index_dir`, then swap it in."""
    index_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{index_dir.name}.new-", dir=index_dir.parent))
    try:
        staging.chmod(0o755)  # mkdtemp makes it private; the index is not a secret
        np.save(staging / EMBEDDINGS, np.ascontiguousarray(embeddings, dtype=np.float32))
        (staging / CHUNKS).write_text(json.dumps([c.model_dump() for c in chunks], indent=1), encoding="utf-8")
        (staging / MANIFEST).write_text(manifest.model_dump_json(indent=2), encoding="utf-8")
        retired = index_dir.with_name(f".{index_dir.name}.old-{os.getpid()}")
        if index_dir.exists():
            os.replace(index_dir, retired)
        try:
            os.replace(staging, index_dir)
        except OSError:
            # Another process swapped in its own build of the same corpus a moment ago: keep it.
            if read_manifest(index_dir) is None:
                raise
        shutil.rmtree(retired, ignore_errors=True)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
