"""Word normalisation for BM25: lower case, no stop words, Snowball (Porter 2) stems.

Stemming lets "caving" match "cave" and "resting" match "rest"; the stemmer object keeps
state between calls, so each thread gets its own.
"""

from __future__ import annotations

import re
import threading

import snowballstemmer

_WORD = re.compile(r"[^\W_]+(?:['-][^\W_]+)*")

# Function words that carry no topic; kept short on purpose ("knees", "back", "up" stay).
STOP_WORDS = frozenset(
    ["a", "an", "and", "are", "as", "at", "be", "been", "but", "by", "can", "could", "did", "do", "does", "doing", "for", "from", "had", "has", "have", "how", "i", "i'm", "if", "in", "into", "is", "it", "it's", "its", "just", "me", "my", "of", "on", "or", "our", "should", "so", "than", "that", "the", "their", "them", "then", "there", "these", "they", "this", "to", "too", "was", "we", "were", "what", "when", "where", "which", "while", "who", "why", "will", "with", "would", "you", "your"]
)

_local = threading.local()


def _stemmer() -> snowballstemmer.stemmer:
    if not hasattr(_local, "stemmer"):
        _local.stemmer = snowballstemmer.stemmer("english")
    return _local.stemmer


def keyword_tokens(text: str) -> list[str]:
    """The stemmed content words of `text`, in order; hyphenated words also yield their parts."""
    words: list[str] = []
    for word in _WORD.findall(text.lower()):
        if word in STOP_WORDS:
            continue
        words.append(word.replace("-", ""))
        if "-" in word:
            words.extend(part for part in word.split("-") if part not in STOP_WORDS)
    return _stemmer().stemWords(words)
