"""The speech-synthesis interface the voice loop calls."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np


@dataclass(frozen=True)
class AudioChunk:
    """Mono int16 PCM at `sample_rate`, plus the (normalised) text of the call that made it, for logs."""

    samples: np.ndarray = field(repr=False)
    sample_rate: int
    text: str = ""

    @property
    def duration(self) -> float:
        return self.samples.size / self.sample_rate


class SpeechSynthesizer(Protocol):
    """Blocking; called from worker threads; safe to call from several threads at once."""

    sample_rate: int
    languages: frozenset[str]
    """The languages it can speak, as Whisper names them (ISO 639-1: "en", "fr", ...)."""

    def synthesize(self, text: str, language: str | None = None) -> Iterator[AudioChunk]:
        """Speak `text` in `language` (one of `languages`; None: the voice's own), yielding each chunk
        as soon as it exists. Unspeakable text yields nothing."""
        ...
