"""The speech-recognition interface the voice loop calls."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np


@dataclass(frozen=True)
class Transcript:
    """What was heard. `text` is "" when nothing trustworthy was (see `dropped`)."""

    text: str
    language: str | None
    avg_logprob: float
    no_speech_prob: float
    duration: float
    """Seconds of audio transcribed."""
    compute_s: float
    """Wall seconds spent in the model."""
    final: bool
    dropped: str | None = None
    """Why the guard blanked the text ("no speech", "known hallucination", ...), else None."""
    language_probability: float = 1.0
    """How sure the detection of `language` was (1.0 where the language is fixed)."""
    unclosed_text: str | None = None
    """The same audio read again with the sentence not allowed to close (no ".", "?" or "!"), for
    the end-of-turn judgement: before a mid-sentence pause Whisper drops the dangling word to close
    what it heard as a whole question ("What should I do?"); made to go on, it often keeps it
    ("What should I do to"). None where not asked for, nothing was heard, or the recogniser cannot."""

    @property
    def rtf(self) -> float:
        return self.compute_s / self.duration if self.duration else 0.0


class SpeechRecognizer(Protocol):
    """Blocking and thread-safe: called from worker threads, possibly several sessions at once."""

    def transcribe(self, audio: np.ndarray, final: bool, unclosed: bool = False) -> Transcript:
        """Transcribe 16 kHz mono float32 audio; `final=False` is a cheaper partial pass.
        `unclosed`: also give `Transcript.unclosed_text` (a second decode; for the pause judged)."""
        ...
