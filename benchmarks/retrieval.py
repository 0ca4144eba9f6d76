"""Knowledge retrieval quality and speed on the labelled questions in rag_index/eval/questions.jsonl.

For dense (MiniLM cosine), keyword (BM25) and hybrid (the fused default) retrieval it prints
recall@3 (share of questions with an expected document in the top 3), MRR (mean reciprocal
rank of the first expected document) and the wall time of one `Retriever.search` call, query
embedding included (median and p95 over all questions and repeats, after a warm-up), and the
process CPU time per call, which is what a query costs when no other work shares the cores.
Targets: hybrid recall@3 >= 0.9, <= 20 ms per query on the 2-core CPU.

    .venv/bin/python benchmarks/retrieval.py [--repeat 3] [--runtime auto|onnx|torch] [--threads 1] [-k 3]

The onnx runtime needs setup's export first (models.embeddings.prepare_embedded).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from models.embeddings import EmbeddingOptions  # noqa: E402
from models.paths import pin_caches  # noqa: E402
from rag_index.evaluation import evaluate, load_questions, percentile  # noqa: E402
from rag_index.retriever import Retriever  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="timed passes over the questions (default 3)")
    parser.add_argument("--runtime", choices=["auto", "onnx", "torch"], default="auto", help="MiniLM runtime (default auto)")
    parser.add_argument("--threads", type=int, default=1, help="threads for one query embedding (default 1)")
    parser.add_argument("-k", type=int, default=3, help="cut-off for recall (default 3)")
    args = parser.parse_args()
    pin_caches()

    started = time.perf_counter()
    retriever = Retriever(embedding=EmbeddingOptions(runtime=args.runtime, threads=args.threads))
    load_s = time.perf_counter() - started
    questions = load_questions()
    manifest = retriever.manifest
    print(
        f"{len(questions)} questions, {manifest.n_documents} documents / {manifest.n_chunks} passages, "
        f"{manifest.model_id} on {type(retriever.embedder).__name__} ({args.threads} thread(s)), "
        f"retriever ready in {load_s:.1f} s"
    )
    for q in questions[:5]:  # warm-up: first calls pay for lazy initialisation
        retriever.search(q.question, exercise=q.exercise, faults=q.faults)

    print(f"\n| mode    | recall@{args.k} | MRR   | median ms | p95 ms | median CPU ms | misses")
    print("|---------|----------|-------|-----------|--------|---------------|-------")
    for mode in ("dense", "keyword", "hybrid"):
        runs = [evaluate(retriever, questions, mode, k=args.k) for _ in range(args.repeat)]
        times = sorted(t for run in runs for t in run.times_ms)
        cpu = [t for run in runs for t in run.cpu_ms]
        first = runs[0]
        print(
            f"| {mode:<7} | {first.recall_at_k:8.3f} | {first.mrr:.3f} | {statistics.median(times):9.2f} | "
            f"{percentile(times, 0.95):6.2f} | {statistics.median(cpu):13.2f} | {', '.join(first.misses) or '-'}"
        )


if __name__ == "__main__":
    main()
