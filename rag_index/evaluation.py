"""Retrieval quality on the labelled questions in rag_index/eval/questions.jsonl.

The questions are written the way a person talks mid-workout and are kept apart from the
corpus text, so a good score means the retriever generalises rather than matching copied
sentences. Used by benchmarks/retrieval.py and tests/test_rag_eval.py.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

from pydantic import BaseModel, Field

from rag_index.retriever import Mode, Retriever

QUESTIONS = Path(__file__).resolve().parent / "eval" / "questions.jsonl"


class Question(BaseModel):
    id: str
    question: str
    exercise: str | None = None
    faults: list[str] = Field(default_factory=list)
    expected: list[str] = Field(min_length=1, description="Doc ids that answer it; any of them is a hit.")


class ModeResult(BaseModel):
    """Scores of one retrieval mode over all questions."""

    mode: str
    recall_at_k: float = Field(description="Share of questions with an expected doc in the top k.")
    mrr: float = Field(description="Mean of 1/rank of the first expected doc (0 when absent).")
    median_ms: float
    p95_ms: float
    times_ms: list[float] = Field(description="Wall time of each search call, in question order.")
    cpu_ms: list[float] = Field(description="CPU time of the process during each call: the cost without contention.")
    misses: list[str] = Field(description="Ids of questions with no expected doc in the top k.")


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in [0, 1]) of an ascending list."""
    return sorted_values[min(len(sorted_values) - 1, round(q * (len(sorted_values) - 1)))]


def load_questions(path: Path = QUESTIONS) -> list[Question]:
    return [Question.model_validate_json(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def evaluate(retriever: Retriever, questions: list[Question], mode: Mode, k: int = 3) -> ModeResult:
    """Run every question through `retriever.search` in `mode` and score the ranking."""
    hits, reciprocal, times, cpu, misses = 0, 0.0, [], [], []
    for q in questions:
        started, started_cpu = time.perf_counter(), time.process_time()
        passages = retriever.search(q.question, exercise=q.exercise, faults=q.faults, k=k, mode=mode)
        times.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
        ranks = [rank for rank, p in enumerate(passages, start=1) if p.doc_id in q.expected]
        if ranks:
            hits += 1
            reciprocal += 1.0 / ranks[0]
        else:
            misses.append(q.id)
    ranked = sorted(times)
    return ModeResult(
        mode=mode,
        recall_at_k=hits / len(questions),
        mrr=reciprocal / len(questions),
        median_ms=statistics.median(ranked),
        p95_ms=percentile(ranked, 0.95),
        times_ms=times,
        cpu_ms=cpu,
        misses=misses,
    )
