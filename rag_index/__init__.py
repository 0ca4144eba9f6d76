"""The coaching knowledge base: an original, cited corpus and hybrid retrieval over it.

    from rag_index.build import ensure_index
    from rag_index.retriever import Retriever

    ensure_index()                      # setup: build rag_index/index if missing or stale
    retriever = Retriever()             # once per process; thread-safe
    retriever.search("why do my knees cave in", exercise="squat", faults=["knees_cave"])

`python -m rag_index.build` builds the index, `python -m rag_index.query "..."` asks it. The
package imports nothing itself, so those entry points run without import-order warnings.
"""
