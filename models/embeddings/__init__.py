"""Text embeddings for the coaching knowledge base: MiniLM offline, SciBERT optionally.

    prepare_embedded(weights_dir())  # setup, once: MiniLM to ONNX
    vectors = load_embedder(EmbeddingOptions()).embed(["why do my knees cave in"])
"""

from __future__ import annotations

from models.embeddings.minilm import load_minilm
from models.embeddings.options import MINILM_ID, SCIBERT_ID, EmbeddingOptions
from models.embeddings.prepare import minilm_onnx_dir, prepare_embedded
from models.embeddings.protocol import Embedder, EmbedderUnavailable
from models.embeddings.scibert import load_scibert
from models.embeddings.sources import model_id, source_fingerprint


def load_embedder(options: EmbeddingOptions | None = None) -> Embedder:
    """The backend `options.backend` names, loaded; `EmbedderUnavailable` when it cannot be."""
    options = options or EmbeddingOptions()
    if options.backend == "scibert":
        return load_scibert(options)
    return load_minilm(options)


__all__ = [
    "MINILM_ID",
    "SCIBERT_ID",
    "Embedder",
    "EmbedderUnavailable",
    "EmbeddingOptions",
    "load_embedder",
    "load_minilm",
    "load_scibert",
    "minilm_onnx_dir",
    "model_id",
    "prepare_embedded",
    "source_fingerprint",
]
