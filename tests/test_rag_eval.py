"""Retrieval accuracy on the labelled questions: a floor under the benchmark's targets.

benchmarks/retrieval.py reports the numbers (target: hybrid recall@3 >= 0.9); this test only
stops a change to the corpus, the chunking or the fusion from quietly making answers worse.
No timing is asserted here.
"""

from __future__ import annotations

import re

import pytest

from rag_index.documents import CORPUS_DIR, load_corpus
from rag_index.evaluation import Question, evaluate, load_questions
from rag_index.retriever import Retriever

pytestmark = pytest.mark.offline  # scripts/test.sh runs it beside another offline test


@pytest.fixture(scope="module")
def questions() -> list[Question]:
    return load_questions()


@pytest.fixture(scope="module")
def retriever(tmp_path_factory: pytest.TempPathFactory) -> Retriever:
    return Retriever(tmp_path_factory.mktemp("rag-eval") / "index")


def test_questions_are_many_unique_and_point_at_real_documents(questions: list[Question]) -> None:
    assert len(questions) >= 40
    assert len({q.id for q in questions}) == len(questions)
    doc_ids = {doc.doc_id for doc in load_corpus(CORPUS_DIR)}
    for q in questions:
        assert set(q.expected) <= doc_ids, q.id


def test_questions_are_not_copied_from_the_corpus(questions: list[Question]) -> None:
    def words(text: str) -> list[str]:
        return re.findall(r"[a-z0-9']+", text.lower())

    corpus_text = " " + " ".join(" ".join(words(doc.body)) for doc in load_corpus(CORPUS_DIR)) + " "
    for q in questions:
        w = words(q.question)
        runs = (" ".join(w[i : i + 7]) for i in range(len(w) - 6))
        assert not any(f" {run} " in corpus_text for run in runs), f"{q.id} repeats corpus text"


def test_hybrid_retrieval_stays_above_the_floor(retriever: Retriever, questions: list[Question]) -> None:
    hybrid = evaluate(retriever, questions, "hybrid")
    assert hybrid.recall_at_k >= 0.85, hybrid.misses
    assert hybrid.mrr >= 0.75


def test_fusion_is_not_worse_than_either_signal(retriever: Retriever, questions: list[Question]) -> None:
    results = {mode: evaluate(retriever, questions, mode) for mode in ("dense", "keyword", "hybrid")}
    assert results["dense"].recall_at_k >= 0.75
    assert results["keyword"].recall_at_k >= 0.7
    assert results["hybrid"].recall_at_k >= max(results["dense"].recall_at_k, results["keyword"].recall_at_k)
