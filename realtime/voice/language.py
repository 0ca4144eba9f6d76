"""Which language a reply is in: the one the person spoke, where the coach's voice can say it.

A multilingual Whisper (the full profile's large-v3, or the CPU's multilingual base) names the
language of every question. The LLM is told to answer in it; the voice speaks it when it can
(XTTS-v2 speaks 17 languages, a Piper voice one). A spoken reply in a language the voice cannot
speak would be gibberish, so then the coach answers in English and says why, once; a reply that is
only read (text, no voice) is always in the person's language.
"""

from __future__ import annotations

from dataclasses import dataclass

# Whisper's codes for the languages the full profile's voice (XTTS-v2) speaks, and their names as the
# LLM is told them.
LANGUAGE_NAMES: dict[str, str] = {
    "en": "English", "es": "Spanish", "fr": "French", "de": "German", "it": "Italian", "pt": "Portuguese",
    "pl": "Polish", "tr": "Turkish", "ru": "Russian", "nl": "Dutch", "cs": "Czech", "ar": "Arabic",
    "zh": "Chinese", "ja": "Japanese", "hu": "Hungarian", "ko": "Korean", "hi": "Hindi",
}


SURE = 0.5
"""Whisper's language probability from which a question switches the conversation's language. On
short or clipped questions detection wavers: an Italian question cut by a barge-in was taken for
Spanish at 0.23 and for Japanese at 0.26, where the whole question read Italian at 0.84."""


class ConversationLanguage:
    """The language a conversation is held in: English until Whisper is sure it heard another; an
    unsure detection keeps the language the person has been speaking."""

    def __init__(self) -> None:
        self.code: str | None = None

    def heard(self, language: str | None, probability: float) -> str | None:
        """The language of a question Whisper heard in `language` with `probability`."""
        if language is not None and probability >= SURE:
            self.code = language
        return self.code


def language_name(code: str) -> str:
    return LANGUAGE_NAMES.get(code, code)


@dataclass(frozen=True)
class ReplyLanguage:
    """`code`: the language to answer in (None: English, as the prompt is written, and nothing to say
    about it). `note`: what to tell the person when their language could not be spoken, else None."""

    code: str | None
    note: str | None = None


def reply_language(heard: str | None, spoken: bool, voice_languages: frozenset[str]) -> ReplyLanguage:
    """The language of a reply to words heard in `heard` (None: unknown, e.g. typed)."""
    if heard is None or heard == "en":
        return ReplyLanguage(None)
    if spoken and heard not in voice_languages:
        speaks = ", ".join(sorted(language_name(code) for code in voice_languages)) or "no language"
        # Said outright: asked in French, the LLM answers in French unless told otherwise.
        return ReplyLanguage("en", f"I heard {language_name(heard)}, but this voice speaks {speaks} only, "
                                   "so I answer in English.")
    return ReplyLanguage(heard)
