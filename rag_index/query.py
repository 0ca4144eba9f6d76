"""Ask the knowledge base from a shell: `python -m rag_index.query "why do my knees cave in"`.

Prints the ranked passages with score, document id and title (and the passage text unless
--brief), building the index first if it is missing or stale.
"""

from __future__ import annotations

import argparse
import logging
import sys
import textwrap

from models.embeddings import EmbedderUnavailable
from rag_index.retriever import Retriever
from rag_index.store import IndexUnavailable


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m rag_index.query", description=__doc__.splitlines()[0])
    parser.add_argument("question", nargs="*", help="what the person asked (may be empty with --exercise/--fault)")
    parser.add_argument("--exercise", help="current exercise, e.g. squat, push_up, bicep_curl")
    parser.add_argument("--fault", action="append", default=[], help="active fault id, e.g. knees_caving (repeatable)")
    parser.add_argument("-k", type=int, default=3, help="passages to return (default 3)")
    parser.add_argument("--mode", choices=["hybrid", "dense", "keyword"], default="hybrid")
    parser.add_argument("--brief", action="store_true", help="ids, scores and titles only")
    parser.add_argument("--json", action="store_true", help="print the passages as JSON lines")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger("sentence_transformers").setLevel(logging.WARNING)
    question = " ".join(args.question)
    if not question.strip() and not args.exercise and not args.fault:
        print("ask a question, or give --exercise / --fault for context", file=sys.stderr)
        return 2
    try:
        retriever = Retriever()
    except (IndexUnavailable, EmbedderUnavailable) as exc:
        print(exc, file=sys.stderr)
        return 1
    passages = retriever.search(question, exercise=args.exercise, faults=args.fault, k=args.k, mode=args.mode)
    if not passages:
        print("no passage is relevant enough to this question")
        return 0
    for rank, passage in enumerate(passages, start=1):
        if args.json:
            print(passage.model_dump_json())
            continue
        print(f"{rank}. [{passage.score:.3f}] {passage.chunk_id}  {passage.title}")
        if not args.brief:
            print(textwrap.indent(passage.text, "     "))
            print(f"     sources: {'; '.join(passage.sources)}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
