"""How long a pause must last to end the person's turn: what Smart Turn hears, and the words heard.

Smart Turn judges the sound (intonation, rhythm). On the benchmark's synthetic voices
(`benchmarks/turns.py`) it takes many mid-sentence pauses for finished turns and many finished
robotic-voice questions for unfinished ones. The pause transcript is made at every pause anyway (it
becomes the final transcript), so its words give a second, independent opinion for free: an English
question does not end on "the", "my", "during" or "should I". The verdict is the silence at which
this pause ends the turn:

- both say finished (the words closed as a sentence): at once (the speculative reply already under
  way is heard);
- one says finished, the other not (Smart Turn unsure, or Whisper left the words open): at
  `words_after_ms`, so a misjudged voice or a dropped last word waits a little, not the whole cap;
- the words stop on a word a sentence cannot end on, both say unfinished, or nothing was heard:
  at the silence cap.

Where the sentence model is loaded (`models/turn/sentence_end.py`, a language model reading the
words), it decides whether the words may end here at all: under its bar the pause waits for the
cap; over it the turn ends at once when Whisper closed the words or Smart Turn hears a finished
turn, else at `words_after_ms`. On the benchmark's voices that halves the false cut-offs at a
shorter delay (docs/TURN_TAKING.md): a list of words cannot know that "How do I keep my elbows"
or "Can you tell me how deep my" wants more, and Smart Turn misjudges synthetic voices.
"""

from __future__ import annotations

import re

from models.turn import TurnOptions

# Words a spoken sentence almost never ends on: articles, possessives, conjunctions, subject
# pronouns (a question ends on "did I do", not on "did I"), prepositions that are never left
# stranded, question words and hesitations. Left out on purpose: words questions often end on
# ("what should I focus on?", "keep my elbows in", "what should I do?", "how heavy it is").
UNFINISHED_ENDINGS = frozenset("""
    a an the my your our their
    and or but because if than when while
    i we they he she
    of during between into onto
    how what why which whose
    um uh er erm
""".split())
_WORD = re.compile(r"[a-z']+")
SENTENCE_ENDS = (".", "?", "!", "\u3002", "\uff1f", "\uff01")  # and the full-width marks of CJK text


def words_unfinished(text: str) -> bool:
    """The transcript stops mid-sentence: on a word that needs more, or on a trailing "..." or ","."""
    stripped = text.strip()
    if stripped.endswith(("..", ",", "-", "\u2026")):
        return True
    words = _WORD.findall(stripped.lower())
    return bool(words) and words[-1] in UNFINISHED_ENDINGS


def words_closed(text: str) -> bool:
    """Whisper closed the transcript with a full stop, question or exclamation mark.

    Whisper punctuates what it hears as a whole sentence; a fragment it cannot make one of, it
    leaves open ("How do I keep my elbows", "Why do you mind"). It also leaves a finished question
    open now and then, when it drops its last word ("How fast was that"), so an open transcript
    is weaker evidence than a word a sentence cannot end on (docs/TURN_TAKING.md)."""
    return text.strip().rstrip("\"')\u201d").endswith(SENTENCE_ENDS)


def pause_end_ms(probability: float | None, words: str | None, options: TurnOptions,
                 sentence_end: float | None = None) -> int:
    """Silence (ms) at which this pause ends the turn; 0: now.

    `probability`: Smart Turn's (None if it failed); `words`: the pause transcript (None if it
    failed, "" if it heard nothing); `sentence_end`: the sentence model's probability that the
    words end a sentence (None without the model, or if it failed)."""
    if not words or words_unfinished(words):
        return options.silence_cap_ms
    sound_finished = probability is not None and probability >= options.threshold
    closed = words_closed(words)
    if sentence_end is not None:
        if sentence_end < options.sentence_threshold:
            return options.silence_cap_ms
        return 0 if closed or sound_finished else options.words_after_ms
    if closed and sound_finished:
        return 0
    if not closed and not sound_finished:
        return options.silence_cap_ms
    return options.words_after_ms
