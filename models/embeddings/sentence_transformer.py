"""The one runtime shared by both backends: a sentence-transformers model behind a lock.

Hugging Face fast tokenizers are not safe to call from several threads at once ("Already
borrowed"), and on a 2-core CPU two concurrent forward passes only slow each other down, so
calls are serialised; the retriever is called from worker threads.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer


class SentenceTransformerEmbedder:
    """An `Embedder` over a loaded `SentenceTransformer` that ends in normalisation."""

    def __init__(self, model: SentenceTransformer, model_id: str, batch_size: int, threads: int | None) -> None:
        if threads is not None:
            import torch

            torch.set_num_threads(threads)
        self._model = model
        self._model_id = model_id
        self._batch_size = batch_size
        self._dim = int(model.get_embedding_dimension())
        self._lock = threading.Lock()

    @property
    def dim(self) -> int:
        return self._dim

    @property
    def model_id(self) -> str:
        return self._model_id

    def embed(self, texts: list[str]) -> np.ndarray:
        """Unit float32 rows, one per text; an empty list gives a (0, dim) array."""
        if not texts:
            return np.zeros((0, self._dim), dtype=np.float32)
        with self._lock:
            vectors = self._model.encode(
                list(texts),
                batch_size=self._batch_size,
                convert_to_numpy=True,
                normalize_embeddings=True,
                show_progress_bar=False,
            )
        return np.ascontiguousarray(vectors, dtype=np.float32)
