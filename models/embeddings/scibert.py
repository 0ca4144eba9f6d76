"""SciBERT (allenai/scibert_scivocab_uncased): an optional second embedder for the full profile.

SciBERT is a plain BERT checkpoint, not a sentence-transformers model, so the sentence vector
is built explicitly: the transformer's token states, mean-pooled over the attention mask, then
L2-normalised. No registry package carries it: offline it loads only from the Hugging Face
cache under `models/weights/hf` or from a local directory given as `options.source`.
"""

from __future__ import annotations

import os

from models.embeddings.options import SCIBERT_ID, EmbeddingOptions
from models.embeddings.protocol import EmbedderUnavailable
from models.embeddings.sentence_transformer import SentenceTransformerEmbedder
from models.embeddings.sources import resolve_source
from models.paths import hub_offline, pin_caches


def load_scibert(options: EmbeddingOptions | None = None) -> SentenceTransformerEmbedder:
    """Load SciBERT with mean pooling; raises `EmbedderUnavailable` when the weights cannot be had."""
    options = options or EmbeddingOptions(backend="scibert")
    pin_caches()
    source = resolve_source(options)
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Normalize, Pooling, Transformer

    try:
        transformer = Transformer(source, max_seq_length=options.max_seq_length)
    except (OSError, ValueError) as exc:
        why = (
            "the Hub is offline (HF_HUB_OFFLINE=1) and it is not in the cache at "
            f"{os.environ.get('HF_HOME', '~/.cache/huggingface')}"
            if hub_offline()
            else str(exc).splitlines()[0]
        )
        raise EmbedderUnavailable(
            f"SciBERT ({source}) is unavailable: {why}. Download it where the Hub is reachable "
            f"(it is {SCIBERT_ID}) or pass a local directory as EmbeddingOptions.source."
        ) from exc
    pooling = Pooling(transformer.get_embedding_dimension(), pooling_mode="mean")
    model = SentenceTransformer(modules=[transformer, pooling, Normalize()], device=options.device)
    return SentenceTransformerEmbedder(model, SCIBERT_ID, options.batch_size, options.threads)
