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

    @property
    def rtf(self) -> float:
        return self.compute_s / self.duration if self.duration else 0.0


class SpeechRecognizer(Protocol):
    """Blocking and thread-safe: called from worker threads, possibly several sessions at once."""

    def transcribe(self, audio: np.ndarray, final: bool) -> Transcript:
        """Transcribe 16 kHz mono float32 audio; `final=False` is a cheaper partial pass."""
        ...
