"""Speaks text into a session: TTS on its worker pool, resampled, handed to the reply audio sink.

Sentences are synthesised in order as they arrive, so the first clause is heard while the LLM is
still writing the rest. Setting the stop event (barge-in) ends synthesis after the current chunk;
the sink is flushed by the caller.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from concurrent.futures import Executor
from typing import Protocol

import numpy as np

from models.audio import StreamResampler

log = logging.getLogger(__name__)


class AudioSink(Protocol):
    """Where reply speech goes; called from the TTS worker thread."""

    sample_rate: int

    def write(self, pcm: np.ndarray, first: bool) -> None:
        """Queue int16 mono samples at `sample_rate`; `first` marks the turn's first audio."""
        ...


class Speaker:
    """One reply's (or cue's) speech; `say` sentences, then `finish`."""

    def __init__(self, tts: object, pool: Executor, sink: AudioSink, stop: threading.Event,
                 on_first_audio: Callable[[], None] | None = None,
                 on_spoken: Callable[[str], None] | None = None, language: str | None = None) -> None:
        """on_first_audio: the turn's first samples reached the sink (from the TTS thread, called
        on the loop). on_spoken: a sentence was synthesised (on the loop). language: the reply's
        (one the voice speaks; None: the voice's own)."""
        self._tts = tts
        self._language = language
        self._pool = pool
        self._sink = sink
        self._stop = stop
        self._on_first_audio = on_first_audio
        self._on_spoken = on_spoken
        self._queue: asyncio.Queue[str | None] = asyncio.Queue()
        self._first = True
        self._resampler: StreamResampler | None = None
        self._task = asyncio.get_running_loop().create_task(self._work(), name="speaker")
        self._not_first_synthesis = threading.Event()  # clear while the first words are being synthesised
        self._not_first_synthesis.set()

    @property
    def produced_audio(self) -> bool:
        return not self._first

    def wait_while_first_synthesis(self, timeout: float) -> None:
        """Block (a worker thread) while the reply's first words are being synthesised.

        The LLM writing the rest calls this between tokens: paused, it leaves both cores to the
        synthesis of the words the person is waiting for, and it still writes faster than they
        are spoken."""
        self._not_first_synthesis.wait(timeout)

    def say(self, text: str) -> None:
        self._queue.put_nowait(text)

    async def finish(self) -> None:
        """Wait until every sentence said so far is synthesised (and queued for sending)."""
        self._queue.put_nowait(None)
        await self._task

    def cancel(self) -> None:
        self._stop.set()
        self._not_first_synthesis.set()
        self._task.cancel()

    async def _work(self) -> None:
        loop = asyncio.get_running_loop()
        while (text := await self._queue.get()) is not None:
            if self._stop.is_set():
                return
            if self._first:
                self._not_first_synthesis.clear()
            try:
                await loop.run_in_executor(self._pool, self._synthesise, text, loop)
            finally:
                self._not_first_synthesis.set()  # also when nothing was sayable (an emoji alone)
            if self._on_spoken is not None:
                self._on_spoken(text)

    def _synthesise(self, text: str, loop: asyncio.AbstractEventLoop) -> None:
        for chunk in self._tts.synthesize(text, self._language):  # type: ignore[attr-defined]
            if self._stop.is_set():
                return
            samples = chunk.samples
            if chunk.sample_rate != self._sink.sample_rate:
                if self._resampler is None or self._resampler.in_rate != chunk.sample_rate:
                    self._resampler = StreamResampler(chunk.sample_rate, self._sink.sample_rate)
                samples = self._resampler.push(samples)
            if samples.size == 0:
                continue
            if self._first and self._on_first_audio is not None:
                loop.call_soon_threadsafe(self._on_first_audio)
            self._sink.write(samples, self._first)
            self._first = False
            self._not_first_synthesis.set()
