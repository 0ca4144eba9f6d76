"""Turns LLM output into something a voice can say.

An LLM answers in markdown, sometimes with emoji, links or code. Piper would read "asterisk
asterisk" or spell out a URL letter by letter, and espeak-ng names emoji ("flexed biceps"). The
normaliser keeps the words, drops what is only meant for the eye, and returns "" when nothing
speakable remains, so callers can skip synthesis altogether.
"""

from __future__ import annotations

import re
import unicodedata

_CODE_BLOCK = re.compile(r"```.*?(```|$)", re.DOTALL)
_INLINE_CODE = re.compile(r"`([^`]*)`")
_IMAGE = re.compile(r"!\[[^\]]*\]\([^)]*\)")
_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
_URL = re.compile(r"\b(?:https?://|www\.)\S+", re.IGNORECASE)
_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+\.[\w.]+\b")
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s*", re.MULTILINE)
_BULLET = re.compile(r"^\s*(?:[-*+•]|\d+[.)])\s+", re.MULTILINE)
_EMPHASIS = re.compile(r"(\*\*|__|\*|_|~~)(?=\S)(.+?)(?<=\S)\1")
_TABLE_RULE = re.compile(r"^\s*\|?[\s:|-]+\|[\s:|-]*$", re.MULTILINE)
_HTML_TAG = re.compile(r"</?[a-zA-Z][^>]*>")
_SPOKEN_SYMBOLS = {"&": " and ", "%": " percent", "°": " degrees", "+": " plus ", "=": " equals ", "×": " times "}
_SPEAKABLE = re.compile(r"[^\W_]")  # a letter or digit of any script: Chinese and Russian replies are speech too


def normalize_for_speech(text: str) -> str:
    """Markdown/emoji/URL/code-free text for TTS; "" when nothing speakable is left."""
    out = _CODE_BLOCK.sub(" ", text)
    out = _INLINE_CODE.sub(r"\1", out)
    out = _IMAGE.sub(" ", out)
    out = _LINK.sub(r"\1", out)
    out = _URL.sub(" ", out)
    out = _EMAIL.sub(" ", out)
    out = _HTML_TAG.sub(" ", out)
    out = _TABLE_RULE.sub(" ", out)
    out = _HEADING.sub("", out)
    out = _BULLET.sub("", out)
    for _ in range(2):  # nested emphasis (***bold italic***)
        out = _EMPHASIS.sub(r"\2", out)
    out = "".join(_speakable_char(ch) for ch in out)
    out = re.sub(r"\s*\n\s*", ". ", out.strip())  # line breaks in lists become sentence pauses
    out = re.sub(r"([.!?:;,])(?:\s*\.)+", r"\1", out)
    out = " ".join(out.split())
    return out if _SPEAKABLE.search(out) else ""


def _speakable_char(ch: str) -> str:
    if ch in _SPOKEN_SYMBOLS:
        return _SPOKEN_SYMBOLS[ch]
    if ch in "*_#|~^<>[]{}\\`":
        return " "
    category = unicodedata.category(ch)
    if category in ("So", "Sk", "Cs", "Co") or ch in "\u200d\ufe0f":  # emoji, pictographs, joiners
        return " "
    if category == "Cc" and ch not in "\n\t":
        return " "
    return ch
