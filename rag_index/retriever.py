"""Hybrid retrieval over the knowledge index: MiniLM cosine similarity plus BM25 keywords.

Dense vectors find passages that say the same thing in other words ("my bum is too high" ->
hips piking); BM25 rewards the exact terms a person uses ("DOMS", "Valsalva") that a small
embedding model blurs. Scores are fused as a weighted sum of the cosine and the BM25 score
scaled to [0, 1] by the best match, and the current exercise and active faults nudge passages
that are about them. Because BM25 scaled that way rates any single shared word as a perfect
match ("TELL me a joke"), the relevance floor is mainly on the cosine similarity.

`search` is safe to call from many threads: the index arrays are never written after
loading, and the embedder serialises its own model calls.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import BaseModel, Field
from rank_bm25 import BM25Okapi

from models.embeddings import (
    Embedder,
    EmbedderUnavailable,
    EmbeddingOptions,
    load_embedder,
)
from rag_index.build import ensure_index, stale_reason
from rag_index.documents import CORPUS_DIR
from rag_index.keywords import keyword_tokens
from rag_index.store import INDEX_DIR, IndexUnavailable, StoredIndex, read_index
from rag_index.vocabulary import exercise_id, exercise_label, fault_phrase, snake

log = logging.getLogger(__name__)

Mode = Literal["hybrid", "dense", "keyword"]
_SENTENCE_BREAK = re.compile(r"(?<=[.!?:])\s+|\n+")
_CLAUSE_BREAK = re.compile(r"[,;:]\s|\s[-–(]")


class RetrieverOptions(BaseModel):
    """Fusion weights and floors, chosen on rag_index/eval/questions.jsonl and a set of off-topic
    phrases; recall there stays the same for dense weights from 0.6 to 0.8."""

    dense_weight: float = Field(0.6, ge=0.0, le=1.0, description="Share of the cosine in the fused score; BM25 gets the rest.")
    exercise_boost: float = Field(0.1, ge=0.0, description="Added to passages about the current exercise.")
    fault_boost: float = Field(0.15, ge=0.0, description="Added to passages tagged with an active fault.")
    min_similarity: float = Field(
        0.25,
        description="Relevance floor: passages whose cosine similarity to the query is below it are never "
        "returned (off-topic talk scores under about 0.23 with MiniLM, real questions above 0.3). "
        "In keyword mode the floor is sharing at least one word with the query.",
    )
    min_score: float = Field(
        0.2,
        description="Hybrid only: the fused score (before context boosts) must also reach this, which "
        "drops passages that are barely similar and share no word with the question.",
    )
    max_query_chars: int = Field(400, ge=16, description="Longer questions are cut at a word boundary.")


class Passage(BaseModel):
    """One retrieved passage, with what the coach needs to quote and cite it."""

    doc_id: str
    chunk_id: str
    title: str
    text: str
    score: float
    sources: list[str]


def truncate_query(text: str, max_chars: int) -> str:
    """Collapse whitespace and cut at the last word boundary before `max_chars`."""
    text = " ".join(text.split())
    if len(text) <= max_chars:
        return text
    cut = text[:max_chars]
    return cut.rsplit(" ", 1)[0] if " " in cut else cut


class Retriever:
    """Loads (and if needed builds) the index once; `search` answers in milliseconds."""

    def __init__(
        self,
        index_dir: Path = INDEX_DIR,
        *,
        embedder: Embedder | None = None,
        embedding: EmbeddingOptions | None = None,
        options: RetrieverOptions | None = None,
        corpus_dir: Path = CORPUS_DIR,
        auto_build: bool = True,
    ) -> None:
        """Raises `IndexUnavailable` (with the reason) when no usable index or embedder can be had.

        `auto_build=False` refuses a missing or stale index instead of building it.
        """
        self.options = options or RetrieverOptions()
        try:
            stored = self._open(index_dir, embedder, embedding or EmbeddingOptions(), corpus_dir, auto_build)
        except EmbedderUnavailable as exc:
            raise IndexUnavailable(f"knowledge retrieval is unavailable: {exc}") from exc
        self.manifest = stored.manifest
        self._chunks = stored.chunks
        self._embeddings = stored.embeddings
        self._bm25 = BM25Okapi([keyword_tokens(chunk.keyword_text()) for chunk in self._chunks])
        self._chunk_exercises = [frozenset(chunk.exercises) for chunk in self._chunks]
        self._chunk_tags = [frozenset(snake(tag) for tag in chunk.tags) for chunk in self._chunks]

    def _open(
        self, index_dir: Path, embedder: Embedder | None, embedding: EmbeddingOptions, corpus_dir: Path, auto_build: bool
    ) -> StoredIndex:
        """Load the embedder and the index, building or rebuilding the index when allowed."""
        if not auto_build:
            reason = stale_reason(index_dir, corpus_dir, embedding)
            if reason is not None:
                raise IndexUnavailable(f"{index_dir}: {reason}; build it with `python -m rag_index.build`")
        self._embedder = embedder or load_embedder(embedding)
        if auto_build:
            ensure_index(index_dir, corpus_dir, embedding, embedder=self._embedder)
        try:
            stored = read_index(index_dir)
        except IndexUnavailable:
            if not auto_build:
                raise
            log.warning("knowledge index in %s is unreadable; rebuilding it", index_dir)
            ensure_index(index_dir, corpus_dir, embedding, embedder=self._embedder, force=True)
            stored = read_index(index_dir)
        if self._embedder.model_id != stored.manifest.model_id:
            raise IndexUnavailable(
                f"{index_dir} was embedded with {stored.manifest.model_id}, not {self._embedder.model_id}"
            )
        return stored

    @property
    def embedder(self) -> Embedder:
        """The embedder queries go through (shared, e.g., with other knowledge features)."""
        return self._embedder

    @property
    def size(self) -> int:
        """Number of indexed passages."""
        return len(self._chunks)

    def search(
        self,
        query: str,
        exercise: str | None = None,
        faults: Sequence[str] = (),
        k: int = 3,
        mode: Mode = "hybrid",
    ) -> list[Passage]:
        """Up to `k` passages from distinct documents, best first.

        The query text is the person's words followed by the exercise and the active faults, so
        "what am I doing wrong" during a squat with knees caving still finds the right passage.
        An empty query with no context, or a query that matches nothing above the floor, gives [].
        """
        words = truncate_query(query or "", self.options.max_query_chars)
        current = exercise_id(exercise) if exercise else None
        fault_ids = [snake(f) for f in faults if snake(f)]
        context = " ".join(filter(None, [exercise_label(current) if current else "", *map(fault_phrase, fault_ids)]))
        text = f"{words} ({context})" if words and context else words or context
        if not text or k <= 0:
            return []

        scores = np.zeros(len(self._chunks), dtype=np.float32)
        relevant = np.ones(len(self._chunks), dtype=bool)
        if mode in ("hybrid", "dense"):
            similarity = self._embeddings @ self._embedder.embed([text])[0]
            relevant &= similarity >= self.options.min_similarity
            scores += (1.0 if mode == "dense" else self.options.dense_weight) * similarity
        if mode in ("hybrid", "keyword"):
            keyword = np.asarray(self._bm25.get_scores(keyword_tokens(text)), dtype=np.float32)
            if mode == "keyword":
                relevant &= keyword > 0
            if keyword.max() > 0:
                scores += (1.0 if mode == "keyword" else 1.0 - self.options.dense_weight) * keyword / keyword.max()
        if mode == "hybrid":
            relevant &= scores >= self.options.min_score
        scores += self._context_boost(current, fault_ids)

        passages: list[Passage] = []
        seen: set[str] = set()
        for i in np.argsort(-scores, kind="stable"):
            if len(passages) == k:
                break
            chunk = self._chunks[i]
            if not relevant[i] or chunk.doc_id in seen:
                continue
            seen.add(chunk.doc_id)
            passages.append(
                Passage(
                    doc_id=chunk.doc_id,
                    chunk_id=chunk.chunk_id,
                    title=chunk.title,
                    text=chunk.text,
                    score=round(float(scores[i]), 4),
                    sources=chunk.sources,
                )
            )
        return passages

    def excerpt(self, passage: Passage, query: str, max_chars: int, *, clip: bool = False) -> Passage:
        """`passage` cut to its sentences most similar to `query`, in their own order, within `max_chars`.

        A spoken answer on a CPU can afford ~40 tokens of notes (each costs ~20 ms to read), and the
        one sentence that answers the question grounds a small model better than a whole passage.
        The best sentence is kept even when it alone is longer, unless `clip`: then it ends at its
        last clause break within `max_chars`, if it has one (for a note read while the person waits).
        """
        sentences = [s.strip() for s in _SENTENCE_BREAK.split(passage.text) if s.strip()]
        if len(passage.text) <= max_chars:
            return passage
        keep: list[int] = []
        if len(sentences) < 2:
            keep = [0]
        else:
            vectors = self._embedder.embed([truncate_query(query, self.options.max_query_chars), *sentences])
            closeness = vectors[1:] @ vectors[0]
            used = 0
            for i in np.argsort(-closeness, kind="stable"):
                if keep and (used + len(sentences[i]) + 1 > max_chars or len(sentences[i].split()) < 4):
                    continue  # too long for what is left, or a list label ("- Plank:", "3.") on its own
                keep.append(int(i))
                used += len(sentences[i]) + 1
        text = " ".join(sentences[i] for i in sorted(keep))
        if clip and len(text) > max_chars:
            text = _clip_at_clause(text, max_chars)
        return passage if text == passage.text else passage.model_copy(update={"text": text})

    def _context_boost(self, exercise: str | None, faults: list[str]) -> np.ndarray:
        boost = np.zeros(len(self._chunks), dtype=np.float32)
        if exercise:
            boost += self.options.exercise_boost * np.array(
                [exercise in ex for ex in self._chunk_exercises], dtype=np.float32
            )
        if faults:
            boost += self.options.fault_boost * np.array(
                [any(f in tags for f in faults) for tags in self._chunk_tags], dtype=np.float32
            )
        return boost


def _clip_at_clause(text: str, max_chars: int) -> str:
    """`text` ended at its last clause break (comma, semicolon, dash, parenthesis) within
    `max_chars`; unchanged when no clause ends there (half a clause would mislead more than it saves)."""
    breaks = [m.start() for m in _CLAUSE_BREAK.finditer(text[:max_chars]) if m.start() >= max_chars // 3]
    return text[: breaks[-1]].rstrip(" ,;:-–(") + "." if breaks else text
