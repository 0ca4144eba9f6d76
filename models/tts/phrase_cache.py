"""The audio of short phrases the coach has already said, kept to say them again at once.

Cues repeat: "Five.", "Ten." in every set, a fault's cue each time the fault comes back, "I can't
see you. Step into the frame" whenever the person steps out. Synthesising one takes 0.3-0.5 s on
these CPUs, and a cue is heard that much after its event. `PhraseCache` wraps any
`SpeechSynthesizer`: a short text said in full once is replayed from memory the next time.

Only a synthesis that ran to its end is kept (a reply cut off by barge-in leaves nothing half
said behind), only texts up to `max_chars` (cues and short clauses, not whole LLM sentences, which
rarely repeat), and the least recently said go first once `max_seconds` of audio are held.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterator

from models.tts.protocol import AudioChunk, SpeechSynthesizer


class PhraseCache:
    """A `SpeechSynthesizer` that remembers the audio of short texts it has said in full."""

    def __init__(self, inner: SpeechSynthesizer, max_chars: int = 60, max_seconds: float = 120.0) -> None:
        self.inner = inner
        self.sample_rate: int = inner.sample_rate
        self.languages: frozenset[str] = inner.languages
        self.max_chars = max_chars
        self.max_seconds = max_seconds
        self.hits = 0
        self._entries: OrderedDict[str, tuple[AudioChunk, ...]] = OrderedDict()  # key: language|words
        self._seconds = 0.0
        self._lock = threading.Lock()

    @property
    def seconds_held(self) -> float:
        return self._seconds

    def synthesize(self, text: str, language: str | None = None) -> Iterator[AudioChunk]:
        words = " ".join(text.split())
        if len(words) > self.max_chars:
            yield from self.inner.synthesize(text, language)
            return
        key = f"{language or ''}|{words}"  # the same words in another language sound different
        with self._lock:
            said = self._entries.get(key)
            if said is not None:
                self._entries.move_to_end(key)
                self.hits += 1
        if said is not None:
            yield from said
            return
        chunks = []
        for chunk in self.inner.synthesize(text, language):
            chunks.append(chunk)
            yield chunk
        self._keep(key, tuple(chunks))  # not reached when the caller stopped early (barge-in)

    def _keep(self, key: str, chunks: tuple[AudioChunk, ...]) -> None:
        seconds = sum(c.duration for c in chunks)
        if seconds > self.max_seconds:
            return
        with self._lock:
            if key in self._entries:
                return  # another session said it at the same time
            self._entries[key] = chunks
            self._seconds += seconds
            while self._seconds > self.max_seconds:
                _, dropped = self._entries.popitem(last=False)
                self._seconds -= sum(c.duration for c in dropped)
