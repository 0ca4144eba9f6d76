"""A BERT-style sentence embedder as an ONNX graph on onnxruntime: the fast query path.

The graph (exported by `prepare_embedded`) maps word pieces to token states; tokenising with
the model's own tokenizer.json and the mean pooling + L2 normalisation that the
sentence-transformers model declares happen here in numpy, so the vectors equal the torch
path's. Tokenizer and session are configured once and only read afterwards, so concurrent
calls from worker threads are safe and run in parallel.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

MODEL_FILE = "model.onnx"
TOKENIZER_FILE = "tokenizer.json"


class OnnxEmbedder:
    """An `Embedder` over `<model_dir>/model.onnx` and `<model_dir>/tokenizer.json`."""

    def __init__(self, model_dir: Path, model_id: str, max_seq_length: int, batch_size: int, threads: int | None) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        self._tokenizer = Tokenizer.from_file(str(model_dir / TOKENIZER_FILE))
        self._tokenizer.enable_truncation(max_seq_length)
        self._tokenizer.enable_padding()  # to the longest text of the batch (the file pads every text to 128)
        session_options = ort.SessionOptions()
        session_options.intra_op_num_threads = threads or 0
        session_options.inter_op_num_threads = 1
        self._session = ort.InferenceSession(
            str(model_dir / MODEL_FILE), session_options, providers=["CPUExecutionProvider"]
        )
        self._inputs = {node.name for node in self._session.get_inputs()}
        self._dim = int(self._session.get_outputs()[0].shape[-1])
        self._model_id = model_id
        self._batch_size = batch_size

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
        # Batching texts of similar length keeps padding, and so wasted compute, small.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        vectors = np.empty((len(texts), self._dim), dtype=np.float32)
        for start in range(0, len(order), self._batch_size):
            rows = order[start : start + self._batch_size]
            vectors[rows] = self._embed_batch([texts[i] for i in rows])
        return vectors

    def _embed_batch(self, texts: list[str]) -> np.ndarray:
        encodings = self._tokenizer.encode_batch(list(texts))
        feeds = {
            "input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
            "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
            "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64),
        }
        tokens = self._session.run(None, {name: value for name, value in feeds.items() if name in self._inputs})[0]
        mask = feeds["attention_mask"][..., None].astype(np.float32)
        pooled = (tokens * mask).sum(axis=1) / np.clip(mask.sum(axis=1), 1e-9, None)
        norms = np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)
        return np.ascontiguousarray(pooled / norms, dtype=np.float32)
