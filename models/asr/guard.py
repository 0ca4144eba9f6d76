"""Drops what Whisper says when nobody spoke.

Whisper was trained on subtitles, so on silence, breathing or gym noise it produces the endings of
YouTube videos ("Thanks for watching!", "you", "Subscribe"), repeats a word in a loop, or echoes its
prompt. A coach that answers those is worse than one that hears nothing, so the guard blanks them.
"""

from __future__ import annotations

import re

ALWAYS_DROP = (
    "thanks for watching",
    "thank you for watching",
    "please subscribe",
    "like and subscribe",
    "subscribe to",
    "subtitles by",
    "captions by",
    "amara.org",
    "see you in the next video",
)
"""Phrases nobody says to a fitness coach; their presence alone marks a hallucination."""

DROP_IF_UNSURE = frozenset({"you", "thank you", "thanks", "bye", "so", "oh", "um", "uh", "hmm", "okay", "the", "i"})
"""Short outputs that are real replies sometimes, hallucinations on noise often: dropped when unsure."""

_ANNOTATION = re.compile(r"\[[^\]]*\]|\([^)]*\)|\*[^*]*\*|♪+")
_WORD = re.compile(r"[a-z0-9']+")


def _normalise(text: str) -> str:
    return " ".join(_WORD.findall(text.lower()))


def clean_text(text: str) -> str:
    """Remove non-speech annotations ("[Music]", "(laughs)", "♪") and squeeze spaces."""
    return " ".join(_ANNOTATION.sub(" ", text).split())


def is_repetition_loop(text: str) -> bool:
    """A word or short phrase repeated over and over ("squat squat squat squat ...")."""
    words = _normalise(text).split()
    if len(words) < 6:
        return False
    if len(set(words)) / len(words) < 0.3:
        return True
    for n in (1, 2, 3):
        grams = [" ".join(words[i : i + n]) for i in range(0, len(words) - n + 1, n)]
        if len(grams) >= 4 and max(grams.count(g) for g in set(grams)) / len(grams) > 0.6:
            return True
    return False


def said_once(text: str) -> str:
    """The utterance once, when the text is the same words over and over (the last time maybe cut).

    Whisper given less than its 30 s window sometimes says the whole utterance again ("How long
    should I rest? How long should I rest?"), or until its token limit ("How is my squat depth? How
    is my squat depth? How is my"); nobody asks their coach the same thing twice in one breath.
    """
    words = text.split()
    norm = [_normalise(word) for word in words]
    for size in range(2, len(words) // 2 + 1):  # two words at least, said twice in full at least
        if all(norm[i] == norm[i % size] for i in range(size, len(norm))):
            return " ".join(words[:size])
    return text


def rejection_reason(
    text: str,
    *,
    avg_logprob: float,
    no_speech_prob: float,
    compression_ratio: float,
    prompt: str | None,
    no_speech_threshold: float,
    log_prob_threshold: float,
    compression_ratio_threshold: float,
) -> str | None:
    """Why `text` should be dropped, or None to keep it."""
    norm = _normalise(text)
    if not norm:
        return "empty"
    if no_speech_prob > no_speech_threshold and avg_logprob < log_prob_threshold:
        return "no speech"
    if any(phrase in norm for phrase in ALWAYS_DROP):
        return "known hallucination"
    unsure = no_speech_prob > no_speech_threshold / 2 or avg_logprob < log_prob_threshold / 2
    if norm in DROP_IF_UNSURE and unsure:
        return "short hallucination on noise"
    if compression_ratio > compression_ratio_threshold or is_repetition_loop(norm):
        return "repetition loop"
    if prompt and len(norm.split()) >= 3 and norm in _normalise(prompt):
        return "echo of the prompt"
    return None
