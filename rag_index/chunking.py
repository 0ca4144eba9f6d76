"""Split documents into passages small enough to embed whole and to quote to the LLM.

MiniLM reads at most 256 word pieces, and the spoken coach has little prompt budget, so a
document becomes a few passages of whole paragraphs (a bullet list stays with its lead-in);
only a paragraph longer than the limit is cut, at sentence ends.
"""

from __future__ import annotations

import re

from pydantic import BaseModel

from rag_index.documents import Document

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


class Chunk(BaseModel):
    """One passage of one document, with the document's metadata for filtering and citing."""

    chunk_id: str
    doc_id: str
    title: str
    text: str
    exercises: list[str]
    tags: list[str]
    sources: list[str]

    def embedding_text(self) -> str:
        """The title gives each passage its topic even when the passage itself does not name it."""
        return f"{self.title}. {self.text}"

    def keyword_text(self) -> str:
        """Title, tags and exercises make the passage findable by the words a person would use."""
        return " ".join([self.title, self.text, " ".join(self.tags), " ".join(self.exercises)])


def _words(text: str) -> int:
    return len(text.split())


def _blocks(body: str, max_words: int) -> list[str]:
    """Paragraphs, with a paragraph that ends in ':' joined to the list that follows it."""
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", body) if p.strip()]
    blocks: list[str] = []
    for paragraph in paragraphs:
        if blocks and blocks[-1].endswith(":"):
            blocks[-1] = f"{blocks[-1]}\n{paragraph}"
        else:
            blocks.append(paragraph)
    pieces: list[str] = []
    for block in blocks:
        if _words(block) <= max_words:
            pieces.append(block)
        else:
            pieces.extend(s for s in _SENTENCE_END.split(block) if s.strip())
    return pieces


def chunk_document(doc: Document, max_words: int) -> list[Chunk]:
    """Pack consecutive paragraphs into passages of about `max_words` words at most.

    A single long sentence, or a short closing paragraph merged into the passage before it,
    may go over the limit.
    """
    passages: list[str] = []
    current: list[str] = []
    for piece in _blocks(doc.body, max_words):
        if current and _words("\n\n".join([*current, piece])) > max_words:
            passages.append("\n\n".join(current))
            current = []
        current.append(piece)
    if current:
        tail = "\n\n".join(current)
        # A short closing paragraph reads better with the passage it concludes than alone.
        if passages and _words(tail) < max_words // 3:
            passages[-1] = f"{passages[-1]}\n\n{tail}"
        else:
            passages.append(tail)
    return [
        Chunk(
            chunk_id=f"{doc.doc_id}#{i}",
            doc_id=doc.doc_id,
            title=doc.title,
            text=text,
            exercises=doc.exercises,
            tags=doc.tags,
            sources=doc.sources,
        )
        for i, text in enumerate(passages)
    ]
