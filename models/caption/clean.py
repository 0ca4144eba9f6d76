"""Turning BLIP-2's raw answer into one short caption the LLM can be handed as a fact, or nothing.

The answer is a fact the coach may repeat aloud, so a doubtful one is dropped, not passed on: a
prompt echoed back, a loop ("a gym a gym a gym"), a sentence cut off by the token cap ("holding
dumbbells in a"), or a non-answer ("yes", "unanswerable") become "" or their clean part.
"""

from __future__ import annotations

import re

_SPECIAL_TOKEN = re.compile(r"<\s*/?\s*(?:pad|s|unk|image|extra_id_\d+)\s*>", re.IGNORECASE)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s|\n")
_EDGE_PUNCTUATION = " \t\"'`,;:-–—.!?"
_LABEL = re.compile(r"^(?:short\s+)?answer\s*:\s*", re.IGNORECASE)

DANGLING_WORDS = frozenset(
    "a an the and or but with without of in on at to for from by into onto near next while as is are was were "
    "his her their its he she they who which that this these some very".split()
)
"""Words a sentence does not end on: a caption that does was cut off by the token cap."""

NON_ANSWERS = frozenset(
    {"yes", "no", "none", "nothing", "unknown", "unanswerable", "n/a", "not sure", "i don't know", "i do not know"}
)
"""Whole answers that say nothing about the scene."""


def clean_caption(text: str, prompt: str = "") -> str:
    """One short caption from a raw decoded answer, without final punctuation; "" when nothing useful is left."""
    text = " ".join(_SPECIAL_TOKEN.sub(" ", text).split())
    text = _without_prompt(text, prompt)
    if text.lower().startswith("question:"):
        return ""  # the model asked instead of answering
    text = _SENTENCE_END.split(text, maxsplit=1)[0]
    words = collapse_repeats(text.split())
    while words and (not _bare(words[-1]) or _bare(words[-1]) in DANGLING_WORDS):
        words.pop()
    caption = " ".join(words).strip(_EDGE_PUNCTUATION)
    if caption.lower() in NON_ANSWERS or not any(len(_bare(word)) >= 2 for word in words):
        return ""
    return caption


def collapse_repeats(words: list[str]) -> list[str]:
    """`words` with every run of a repeated phrase kept once ("in a gym in a gym" -> "in a gym").

    Longest phrases first, so "a man a man" loses the second "a man" rather than nothing at all; words
    compare without case and edge punctuation ("gym, gym." is a repeat).
    """
    words = list(words)
    i = 0
    while i < len(words):
        for size in range((len(words) - i) // 2, 0, -1):
            phrase = [_bare(word) for word in words[i : i + size]]
            while [_bare(word) for word in words[i + size : i + 2 * size]] == phrase:
                del words[i + size : i + 2 * size]
        i += 1
    return words


def _without_prompt(text: str, prompt: str) -> str:
    """`text` after an echoed prompt and an "Answer:" label, as decoder-only variants (OPT) return them."""
    if prompt and text.lower().startswith(prompt.strip().lower()):
        text = text[len(prompt.strip()) :].lstrip()
    marker = text.lower().rfind("answer:")
    if marker > 0 and text.lower().startswith("question:"):
        text = text[marker:]
    return _LABEL.sub("", text).strip()


def _bare(word: str) -> str:
    """A word as compared: lower case, without the punctuation around it."""
    return word.strip(_EDGE_PUNCTUATION).lower()
