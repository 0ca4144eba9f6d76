"""Streaming end-of-turn detection: 16 kHz audio in, speech start / utterance end events out.

One `Segmenter` per voice session, fed from one thread. It gives the voice loop what it needs:
- barge-in: `SpeechStarted` fires only after `min_speech_ms` of voiced audio, so a cough or a
  dropped weight does not interrupt the coach;
- partial transcripts: while `in_speech`, `current_audio()` returns the utterance so far
  (pre-roll included) for an ASR pass;
- the final utterance: `UtteranceEnded` after `min_silence_ms` of silence (or when a monologue
  reaches `max_utterance_s`, with `truncated=True`), carrying the audio to transcribe; or sooner,
  when the caller's end-of-turn model judges a pause final (`end_turn`).
Times are seconds of stream time (samples pushed / 16000) since the segmenter was created.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

import numpy as np

from models.vad.options import VadOptions
from models.vad.silero import SAMPLE_RATE, WINDOW_SAMPLES, SileroVad


@dataclass(frozen=True)
class SpeechStarted:
    """Speech has lasted `min_speech_ms`: the moment to barge in. `t_start` is the first voiced window."""

    t_start: float
    t_detected: float


@dataclass(frozen=True)
class UtteranceEnded:
    """End of a turn (or a cut of a long one): `audio` is 16 kHz float32 with pre- and post-roll."""

    audio: np.ndarray = field(repr=False)
    t_start: float
    t_end: float
    truncated: bool = False

    @property
    def duration(self) -> float:
        return self.audio.size / SAMPLE_RATE


VadEvent = SpeechStarted | UtteranceEnded


class _State(enum.Enum):
    IDLE = "idle"  # no speech; keep a pre-roll ring of recent audio
    PENDING = "pending"  # voiced windows seen, not yet min_speech_ms of them
    SPEAKING = "speaking"  # speech confirmed; waiting for min_silence_ms of silence


class Segmenter:
    """Cuts a 16 kHz mono float32 stream into utterances. Per session; not thread-safe."""

    def __init__(self, vad: SileroVad, options: VadOptions | None = None, turn_end_ms: int | None = None) -> None:
        """`turn_end_ms`: silence that ends an utterance, when the caller judges pauses itself
        (`end_turn`) and this is only its cap; default `options.min_silence_ms`. A blip too short to
        be speech is still dropped after `min_silence_ms`."""
        self.options = options or VadOptions()
        self._turn_end_ms = turn_end_ms if turn_end_ms is not None else self.options.min_silence_ms
        self._stream = vad.stream()
        ms = SAMPLE_RATE // 1000
        self._window_ms = WINDOW_SAMPLES / ms
        self._pre_roll = self.options.pre_roll_ms * ms
        self._post_roll = self.options.post_roll_ms * ms
        self._max_samples = int(self.options.max_utterance_s * SAMPLE_RATE)
        self._pending_input = np.zeros(0, dtype=np.float32)
        self._consumed = 0  # samples run through the model so far
        self._reset_utterance()
        self.last_probability = 0.0

    @property
    def in_speech(self) -> bool:
        """True between `SpeechStarted` and `UtteranceEnded`."""
        return self._state is _State.SPEAKING

    @property
    def maybe_speech(self) -> bool:
        """Voiced windows heard, not yet `min_speech_ms` of them: speech, or a cough or a clank."""
        return self._state is _State.PENDING

    @property
    def last_voiced_end(self) -> float:
        """Stream time (s) where the last voiced window of the current utterance ended."""
        return self._last_voiced_end / SAMPLE_RATE

    @property
    def silence_s(self) -> float:
        """Seconds of audio run through the model since the last voiced window of the utterance in
        progress (0 outside one). Windows in the hysteresis band count: they are not speech."""
        if self._state is not _State.SPEAKING:
            return 0.0
        return (self._consumed - self._last_voiced_end) / SAMPLE_RATE

    def current_audio(self) -> np.ndarray | None:
        """The utterance so far (pre-roll included) while speaking, for partial transcripts."""
        if self._state is not _State.SPEAKING:
            return None
        return self._audio()

    def push(self, pcm16k: np.ndarray) -> list[VadEvent]:
        """Feed any number of float32 samples; returns the events they caused, in order."""
        samples = np.asarray(pcm16k, dtype=np.float32).reshape(-1)
        buf = np.concatenate([self._pending_input, samples]) if self._pending_input.size else samples
        n_windows = buf.size // WINDOW_SAMPLES
        events: list[VadEvent] = []
        for i in range(n_windows):
            caused = self._step(buf[i * WINDOW_SAMPLES : (i + 1) * WINDOW_SAMPLES])
            if caused:
                events.extend(caused)
        self._pending_input = buf[n_windows * WINDOW_SAMPLES :].copy()
        return events

    def flush(self) -> list[VadEvent]:
        """End of stream: close an utterance in progress (a pending one is too short and dropped)."""
        events: list[VadEvent] = []
        if self._state is _State.SPEAKING:
            events.append(self._end())
        self._reset_utterance()
        return events

    def end_pause_after(self, silence_ms: int) -> None:
        """The pause in progress ends the utterance at `silence_ms` of silence instead of the
        default (an end-of-turn model judged it); speech resuming forgets this."""
        if self._state is _State.SPEAKING:
            self._pause_end_ms = silence_ms

    def end_turn(self) -> UtteranceEnded | None:
        """End the utterance in progress now (an end-of-turn model judged the pause final before
        `min_silence_ms`, which then acts as a cap); None when no utterance is in progress."""
        if self._state is not _State.SPEAKING:
            return None
        return self._end()

    def reset(self) -> None:
        """Forget everything (e.g. after the coach's own voice was heard); stream time goes on."""
        self._stream.reset()
        self._pending_input = np.zeros(0, dtype=np.float32)
        self._reset_utterance()

    # --- internals -------------------------------------------------------------------------

    def _reset_utterance(self) -> None:
        self._state = _State.IDLE
        self._ring: list[np.ndarray] = []  # pre-roll windows while idle
        self._chunks: list[np.ndarray] = []  # utterance audio (pre-roll + speech + trailing)
        self._chunk_start = 0  # stream sample index of self._chunks[0]
        self._speech_start = 0  # first voiced window
        self._voiced_ms = 0.0
        self._silence_start: int | None = None  # first sample of the current silence run
        self._last_voiced_end = 0
        self._pause_end_ms: int | None = None  # end_pause_after, for the pause in progress

    def _step(self, window: np.ndarray) -> list[VadEvent] | None:
        opts = self.options
        start = self._consumed
        self._consumed += WINDOW_SAMPLES
        prob = self._stream.probability(window)
        self.last_probability = prob
        voiced = prob >= opts.threshold
        silent = prob < opts.silence_threshold

        if self._state is _State.IDLE:
            if not voiced:
                self._ring.append(window)
                while len(self._ring) * WINDOW_SAMPLES > self._pre_roll:
                    self._ring.pop(0)
                return None
            self._state = _State.PENDING
            self._chunks = [*self._ring, window]
            self._chunk_start = start - len(self._ring) * WINDOW_SAMPLES
            self._ring = []
            self._speech_start = start
            self._voiced_ms = self._window_ms
            self._last_voiced_end = self._consumed
            self._silence_start = None
            return self._maybe_confirm()

        self._chunks.append(window)
        if voiced:
            self._voiced_ms += self._window_ms
            self._last_voiced_end = self._consumed
            self._silence_start = None
            self._pause_end_ms = None
        elif silent and self._silence_start is None:
            self._silence_start = start

        silence_ms = 0.0 if self._silence_start is None else (self._consumed - self._silence_start) * 1000 / SAMPLE_RATE

        if self._state is _State.PENDING:
            if silence_ms >= opts.min_silence_ms:  # a short blip, not speech
                tail = self._chunks[-max(1, self._pre_roll // WINDOW_SAMPLES) :]
                self._reset_utterance()
                self._ring = tail
                return None
            return self._maybe_confirm()

        if silence_ms >= (self._pause_end_ms if self._pause_end_ms is not None else self._turn_end_ms):
            return [self._end()]
        if self._consumed - self._chunk_start >= self._max_samples:
            return self._cut()
        return None

    def _audio(self) -> np.ndarray:
        return np.concatenate(self._chunks) if self._chunks else np.zeros(0, dtype=np.float32)

    def _maybe_confirm(self) -> list[VadEvent] | None:
        if self._voiced_ms < self.options.min_speech_ms:
            return None
        self._state = _State.SPEAKING
        return [SpeechStarted(t_start=self._speech_start / SAMPLE_RATE, t_detected=self._consumed / SAMPLE_RATE)]

    def _end(self) -> UtteranceEnded:
        """End of turn: the audio up to the last voiced window plus post-roll; the trailing silence
        becomes the pre-roll of the next utterance."""
        voiced_end = self._last_voiced_end
        stop = min(self._consumed, voiced_end + self._post_roll) - self._chunk_start
        event = UtteranceEnded(
            audio=self._audio()[:stop],
            t_start=self._speech_start / SAMPLE_RATE,
            t_end=voiced_end / SAMPLE_RATE,
        )
        tail = self._chunks[-max(1, self._pre_roll // WINDOW_SAMPLES) :]
        self._reset_utterance()
        self._ring = tail
        return event

    def _cut(self) -> list[VadEvent]:
        """Monologue at max length: emit it, and go on with a fresh utterance that is already speech."""
        now = self._consumed
        event = UtteranceEnded(
            audio=self._audio(),
            t_start=self._speech_start / SAMPLE_RATE,
            t_end=now / SAMPLE_RATE,
            truncated=True,
        )
        self._reset_utterance()
        self._state = _State.SPEAKING
        self._chunk_start = now
        self._speech_start = now
        self._last_voiced_end = now
        return [event, SpeechStarted(t_start=now / SAMPLE_RATE, t_detected=now / SAMPLE_RATE)]
