"""Build the knowledge index: `python -m rag_index.build [--force]`.

Chunks every corpus document, embeds the passages with the configured embedder (MiniLM by
default) and writes the index under rag_index/index. `ensure_index` is what setup and the
server call: it compares the stored manifest with the corpus and model as they are now and
rebuilds only when something changed, so on a fresh index it costs a few milliseconds and
never loads the model.
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import sys
import threading
import time
from pathlib import Path

from models.embeddings import Embedder, EmbedderUnavailable, EmbeddingOptions, load_embedder, model_id, source_fingerprint
from rag_index.chunking import chunk_document
from rag_index.documents import CORPUS_DIR, CorpusError, corpus_files, load_corpus
from rag_index.store import CHUNKS, EMBEDDINGS, FORMAT_VERSION, INDEX_DIR, IndexManifest, IndexUnavailable, read_manifest, write_index

log = logging.getLogger(__name__)

# Passage size in words: short enough for MiniLM's window and a spoken coach's prompt,
# long enough to keep a cue together with its reason.
CHUNK_WORDS = 110

_build_lock = threading.Lock()


def corpus_hash(corpus_dir: Path = CORPUS_DIR) -> str:
    """SHA-256 over the names and bytes of the corpus files."""
    digest = hashlib.sha256()
    for path in corpus_files(corpus_dir):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def _expected_key(corpus_dir: Path, options: EmbeddingOptions, chunk_words: int) -> tuple[int, str, str, str, int]:
    return (FORMAT_VERSION, corpus_hash(corpus_dir), model_id(options), source_fingerprint(options), chunk_words)


def stale_reason(
    index_dir: Path = INDEX_DIR,
    corpus_dir: Path = CORPUS_DIR,
    options: EmbeddingOptions | None = None,
    chunk_words: int = CHUNK_WORDS,
) -> str | None:
    """Why the index must be rebuilt, or None when it matches the corpus and model."""
    options = options or EmbeddingOptions()
    manifest = read_manifest(index_dir)
    if manifest is None:
        return "no index"
    if not all((index_dir / name).is_file() for name in (CHUNKS, EMBEDDINGS)):
        return "index files missing"
    expected = _expected_key(corpus_dir, options, chunk_words)
    names = ("format version", "corpus", "embedding model", "embedding model files", "chunk size")
    changed = [name for name, have, want in zip(names, manifest.key(), expected, strict=True) if have != want]
    return f"{', '.join(changed)} changed" if changed else None


def build_index(
    index_dir: Path = INDEX_DIR,
    corpus_dir: Path = CORPUS_DIR,
    options: EmbeddingOptions | None = None,
    *,
    embedder: Embedder | None = None,
    chunk_words: int = CHUNK_WORDS,
) -> IndexManifest:
    """Chunk, embed and write the index unconditionally; returns its manifest."""
    options = options or EmbeddingOptions()
    documents = load_corpus(corpus_dir)
    chunks = [chunk for doc in documents for chunk in chunk_document(doc, chunk_words)]
    embedder = embedder or load_embedder(options)
    if embedder.model_id != model_id(options):
        raise ValueError(f"embedder is {embedder.model_id} but the options select {model_id(options)}")
    embeddings = embedder.embed([chunk.embedding_text() for chunk in chunks])
    manifest = IndexManifest(
        corpus_hash=corpus_hash(corpus_dir),
        model_id=embedder.model_id,
        model_fingerprint=source_fingerprint(options),
        chunk_words=chunk_words,
        dim=embedder.dim,
        n_documents=len(documents),
        n_chunks=len(chunks),
    )
    write_index(index_dir, manifest, chunks, embeddings)
    return manifest


def ensure_index(
    index_dir: Path = INDEX_DIR,
    corpus_dir: Path = CORPUS_DIR,
    options: EmbeddingOptions | None = None,
    *,
    embedder: Embedder | None = None,
    force: bool = False,
    chunk_words: int = CHUNK_WORDS,
) -> Path:
    """The index directory, rebuilt first if missing or stale; a fresh index is a fast no-op.

    Raises `IndexUnavailable` (never anything else for an expected failure) when the corpus is
    invalid or the embedder cannot be loaded, with the reason in the message.
    """
    options = options or EmbeddingOptions()
    with _build_lock:
        try:
            reason = "forced" if force else stale_reason(index_dir, corpus_dir, options, chunk_words)
            if reason is None:
                return index_dir
            log.info("building knowledge index in %s (%s)", index_dir, reason)
            started = time.perf_counter()
            manifest = build_index(index_dir, corpus_dir, options, embedder=embedder, chunk_words=chunk_words)
        except (CorpusError, EmbedderUnavailable) as exc:
            raise IndexUnavailable(f"knowledge index cannot be built: {exc}") from exc
        log.info(
            "knowledge index built: %d documents, %d passages, %s, %.1f s",
            manifest.n_documents,
            manifest.n_chunks,
            manifest.model_id,
            time.perf_counter() - started,
        )
        return index_dir


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m rag_index.build", description=__doc__.splitlines()[0])
    parser.add_argument("--force", action="store_true", help="rebuild even when the index is fresh")
    parser.add_argument("--index-dir", type=Path, default=INDEX_DIR)
    parser.add_argument("--corpus-dir", type=Path, default=CORPUS_DIR)
    parser.add_argument("--backend", choices=["minilm", "scibert"], default="minilm")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    options = EmbeddingOptions(backend=args.backend)
    try:
        was_stale = args.force or stale_reason(args.index_dir, args.corpus_dir, options) is not None
        path = ensure_index(args.index_dir, args.corpus_dir, options, force=args.force)
    except IndexUnavailable as exc:
        print(exc, file=sys.stderr)
        return 1
    manifest = read_manifest(path)
    assert manifest is not None
    state = "built" if was_stale else "up to date"
    print(f"{path}: {state} ({manifest.n_documents} documents, {manifest.n_chunks} passages, {manifest.model_id})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
