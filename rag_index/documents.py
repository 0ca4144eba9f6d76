"""Corpus documents: markdown files with a small YAML front matter, validated by pydantic.

Every document names its sources; a file whose front matter is missing, malformed or
incomplete stops the build with an error that names the file, so a typo in the corpus can
never silently drop a document from the index.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from rag_index.vocabulary import EXERCISES, exercise_id

CORPUS_DIR = Path(__file__).resolve().parent / "corpus"

_FENCE = "---"


class CorpusError(ValueError):
    """A corpus file cannot be used; the message starts with the file's path."""


class FrontMatter(BaseModel):
    """What each document declares about itself."""

    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=3)
    exercises: list[str] = Field(default_factory=list, description="Exercise ids; empty for general topics.")
    tags: list[str] = Field(default_factory=list)
    sources: list[str] = Field(min_length=1, description="Works the text is based on (never copied from).")

    @field_validator("exercises")
    @classmethod
    def _known_exercises(cls, names: list[str]) -> list[str]:
        ids = []
        for name in names:
            canonical = exercise_id(name)
            if canonical is None:
                raise ValueError(f"unknown exercise {name!r}; expected one of {', '.join(EXERCISES)}")
            ids.append(canonical)
        return ids

    @field_validator("tags", "sources")
    @classmethod
    def _no_blank_items(cls, items: list[str]) -> list[str]:
        if any(not item.strip() for item in items):
            raise ValueError("blank entry")
        return [item.strip() for item in items]


class Document(FrontMatter):
    """A validated corpus file: its id (the file name without .md), front matter and body."""

    doc_id: str
    body: str = Field(min_length=1)


def split_front_matter(text: str) -> tuple[str, str]:
    """('yaml header', 'markdown body') of a file that starts with a '---' fenced header."""
    lines = text.lstrip("\ufeff").splitlines()
    if not lines or lines[0].strip() != _FENCE:
        raise ValueError("does not start with a '---' front matter line")
    for end, line in enumerate(lines[1:], start=1):
        if line.strip() == _FENCE:
            return "\n".join(lines[1:end]), "\n".join(lines[end + 1 :]).strip()
    raise ValueError("front matter has no closing '---' line")


def parse_document(path: Path) -> Document:
    """Read and validate one corpus file; `CorpusError` names the file and the problem."""
    try:
        header, body = split_front_matter(path.read_text(encoding="utf-8"))
        meta = yaml.safe_load(header)
        if not isinstance(meta, dict):
            raise ValueError("front matter is not a mapping of fields")
        return Document(doc_id=path.stem, body=body, **meta)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'document'}: {e['msg']}" for e in exc.errors())
        raise CorpusError(f"{path}: invalid front matter: {problems}") from exc
    except (ValueError, TypeError, yaml.YAMLError, UnicodeDecodeError) as exc:
        raise CorpusError(f"{path}: {exc}") from exc


def corpus_files(corpus_dir: Path) -> list[Path]:
    """The corpus's markdown files in a stable order."""
    return sorted(corpus_dir.glob("*.md"))


def load_corpus(corpus_dir: Path = CORPUS_DIR) -> list[Document]:
    """Every document of the corpus, validated; an empty or missing corpus is an error."""
    files = corpus_files(corpus_dir)
    if not files:
        raise CorpusError(f"{corpus_dir}: no .md documents found")
    return [parse_document(path) for path in files]
