"""Listening: the person's microphone cut into turns, with partial transcripts while they speak.

Microphone audio (16 kHz) goes through the VAD segmenter on the event loop (a 32 ms window costs
~0.1 ms). The listener tells the conversation, through `TurnEvents`, what happens to the person's
turn: it started, a partial transcript heard the words so far, a pause began (the moment to answer
speculatively), the person went on after that pause, the turn ended. It decides when a partial
transcript runs: at an interval while they speak, and once more as soon as they pause, so that a
pause that ends the turn already has a transcript of every word.

What the answer does with those moments is the conversation's; the listener only hears.
"""

from __future__ import annotations

import asyncio
import enum
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from models.vad import Segmenter, SpeechStarted, UtteranceEnded, VadOptions
from realtime.voice.options import ConversationOptions

Transcribe = Callable[[np.ndarray, bool, bool], Awaitable[Any]]  # audio, final, unclosed
MIN_PARTIAL_SAMPLES = 8000  # 0.5 s: a shorter partial transcript rarely holds a word
# Audio that may be the coach's own voice is kept this long at most: a question begun while the
# coach's first cue still plays, in a browser that cancels its own echo, is heard once that is known.
HOLD_MAX_S = 4.0


class ListenerState(enum.Enum):
    """What the coach hears of the person, as the person would see it."""

    IDLE = "idle"  # nobody is speaking
    SPEAKING = "speaking"  # the person is speaking
    PAUSED = "paused"  # a pause inside their turn: it may be the end, or a breath


@dataclass
class PartialRun:
    """A partial transcription of the turn in progress, in flight or done."""

    utterance: int  # the listener's count of turns when it started
    voiced_end: float  # stream time of the last voiced window in the audio it heard
    paused: bool  # that audio ends in a pause (pause_partial_after_s) after the words
    heard: asyncio.Future[Any]


class TurnEvents(Protocol):
    """What the listener tells the conversation, on the event loop."""

    def on_maybe_speech(self, maybe: bool) -> None:
        """Outside a turn, voiced sound began that may be the person starting to speak (True), or
        it ended too short to be speech (False; speech that goes on is `on_speech_started`)."""

    def on_speech_started(self, new_turn: bool) -> None:
        """The person speaks: a new turn, or their turn resumed after a pause."""

    def on_partial(self, text: str) -> None:
        """A partial transcript of the turn so far (only while that turn lasts)."""

    def on_pause(self, audio: np.ndarray, voiced_end: float, covering: PartialRun | None) -> None:
        """A pause began after `audio` (the turn so far); `covering`: a partial transcription that
        heard every word of it, when one is running or done."""

    def on_went_on(self) -> None:
        """The person spoke again after `on_pause`: whatever was started for that pause is stale."""

    def on_turn_end(self, event: UtteranceEnded) -> None:
        """The turn ended: by the silence cap, the VAD's silence, or `end_turn`."""


class Listener:
    """One session's microphone: VAD segmentation, partial transcripts and the turn's moments."""

    def __init__(self, segmenter: Segmenter, vad_options: VadOptions, options: ConversationOptions,
                 transcribe: Transcribe, events: TurnEvents, spawn: Callable[[Coroutine[Any, Any, Any], str], object],
                 clock: Callable[[], float]) -> None:
        self._segmenter = segmenter
        self._vad_options = vad_options
        self._options = options
        self._transcribe = transcribe
        self._events = events
        self._spawn = spawn
        self._clock = clock
        self.utterance = 0  # turns heard so far; a partial of an older one is not reported
        self.in_turn = False  # from the person's first words to the end of their turn
        self._stream_time = 0.0
        self._stream_clock: tuple[float, float] | None = None  # (clock, stream seconds) at the last push
        self._partial_busy = False
        self._last_partial = 0.0
        self._latest_partial: PartialRun | None = None
        self._paused_at: float | None = None  # voiced end of the pause reported by on_pause
        self._held: deque[np.ndarray] = deque()  # audio that may be the coach's voice (see push)
        self._replaying = False
        self.began_held = False  # the turn began in held audio heard later: it may still be the coach
        self._maybe_speech = False  # the segmenter's `maybe_speech`, as last reported

    @property
    def state(self) -> ListenerState:
        if not self._segmenter.in_speech:
            return ListenerState.IDLE
        return ListenerState.PAUSED if self._paused_at is not None else ListenerState.SPEAKING

    @property
    def person_speaking(self) -> bool:
        """Within a turn the VAD has confirmed (pauses included)."""
        return self._segmenter.in_speech

    def push(self, pcm16k: np.ndarray, heard_as_silence: bool = False, held: bool = False,
             replay_held: bool = False) -> None:
        """Microphone audio. `heard_as_silence`: the coach's own voice coming back; it keeps the
        stream clock (the turn timings' origin) going but starts nobody's turn. `held`: it may be
        the coach's voice, not known yet; outside a turn it is kept aside (up to `HOLD_MAX_S`) and
        heard later, when the next audio comes with `replay_held` (the client turned out to cancel
        its own echo: it was the person; or no echo was found while the coach spoke: the turn it
        starts then reports `began_held`), else heard as silence."""
        self._stream_time += len(pcm16k) / 16_000
        self._stream_clock = (self._clock(), self._stream_time)
        if held and not self.in_turn:
            self._held.append(pcm16k)
            while sum(len(x) for x in self._held) > HOLD_MAX_S * 16_000 and len(self._held) > 1:
                self._hear(np.zeros_like(self._held.popleft()))
            return
        if self._held:
            kept = np.concatenate(self._held)
            self._held.clear()
            self._replaying = replay_held
            try:
                self._hear(kept if replay_held else np.zeros_like(kept))
            finally:
                self._replaying = False
        self._hear(np.zeros_like(pcm16k) if heard_as_silence and not self.in_turn else pcm16k)

    def _hear(self, pcm16k: np.ndarray) -> None:
        for event in self._segmenter.push(pcm16k):
            if isinstance(event, SpeechStarted):
                self._speech_started()
            else:
                self._turn_ended(event)
        segmenter = self._segmenter
        if segmenter.maybe_speech != self._maybe_speech:
            self._maybe_speech = segmenter.maybe_speech
            if self._maybe_speech or not segmenter.in_speech:
                self._events.on_maybe_speech(self._maybe_speech)
        if not segmenter.in_speech:
            return
        if self._paused_at is not None and segmenter.last_voiced_end > self._paused_at:
            self._paused_at = None  # they went on: what the pause started heard a shorter turn
            self._events.on_went_on()
        if segmenter.silence_s >= self._options.speculate_after_silence_s:
            if self._paused_at is None and (audio := segmenter.current_audio()) is not None:
                self._paused_at = segmenter.last_voiced_end
                self._events.on_pause(audio, segmenter.last_voiced_end, self._covering_partial())
        elif not self._partial_busy and self._partial_due():
            self._start_partial()

    def wall_time(self, stream_t: float) -> float:
        """The clock's reading at a point of the microphone stream."""
        assert self._stream_clock is not None
        now, stream = self._stream_clock
        return now - (stream - stream_t)

    def end_pause_after(self, silence_ms: int) -> None:
        """The pause in progress ends the turn at `silence_ms` of silence (an end-of-turn judgement)."""
        self._segmenter.end_pause_after(silence_ms)

    def end_turn(self) -> None:
        """The pause in progress ends the turn now (judged final)."""
        if (event := self._segmenter.end_turn()) is not None:
            self._turn_ended(event)

    def _speech_started(self) -> None:
        new_turn = not self.in_turn
        if new_turn:
            self.utterance += 1
            self.in_turn = True
            self.began_held = self._replaying
        self._last_partial = self._clock()
        self._events.on_speech_started(new_turn)

    def _turn_ended(self, event: UtteranceEnded) -> None:
        self.in_turn = False
        self._paused_at = None
        self._events.on_turn_end(event)

    def _partial_due(self) -> bool:
        """While they speak, a partial at an interval; once they pause, one that hears every word."""
        segmenter = self._segmenter
        if segmenter.silence_s >= self._options.pause_partial_after_s:
            return self._covering_partial() is None
        return (segmenter.last_probability >= self._vad_options.silence_threshold
                and self._clock() - self._last_partial >= self._options.partial_interval_s)

    def _covering_partial(self) -> PartialRun | None:
        """This turn's latest partial transcription, if it heard a pause after the last voiced window."""
        run = self._latest_partial
        if (run is not None and run.utterance == self.utterance and run.paused
                and run.voiced_end == self._segmenter.last_voiced_end):
            return run
        return None

    def _start_partial(self) -> None:
        segmenter = self._segmenter
        audio = segmenter.current_audio()
        if audio is None or len(audio) < MIN_PARTIAL_SAMPLES:
            return
        self._partial_busy = True
        # Its own future, so that a speculative answer can wait for it too (shielded there: dropping
        # the answer must not cancel the partial).
        paused = segmenter.silence_s >= self._options.pause_partial_after_s
        # A pause's transcript is judged (end of turn): it also reads the words without closing them.
        heard = asyncio.ensure_future(self._transcribe(audio, False, paused))
        self._latest_partial = PartialRun(self.utterance, segmenter.last_voiced_end, paused, heard)
        self._spawn(self._partial(heard, self.utterance), "asr-partial")

    async def _partial(self, heard: asyncio.Future[Any], utterance: int) -> None:
        try:
            result = await heard
        finally:
            # The interval counts from the end of the last partial: the recogniser stays free about
            # half the time, so the final transcript rarely shares the cores with a partial one.
            self._partial_busy = False
            self._last_partial = self._clock()
        if result.text and utterance == self.utterance and self.in_turn:
            self._events.on_partial(result.text)
