"""The coach's own voice taken back out of the microphone: WebRTC's echo canceller (AEC3).

A phone on a stand or a laptop without headphones plays the reply into its microphone, and the
browser's own echo cancellation is not always on (WHIP publishers, some phones). Heard again, the
reply would barge in on itself and be answered as if the person had spoken. The server knows
exactly what it played, so it runs the same canceller a browser does, from WebRTC's audio
processing module (LiveKit's prebuilt binding): every frame the reply track sends is the far end,
and every microphone frame is cleaned against it before the VAD and Whisper hear it.

In a browser the far end is what the loudspeaker plays a few ms later; here the echo comes back
after the network, both jitter buffers, the client's playout and capture: up to a second, beyond
the delays AEC3 searches. So the far end is held back by the round trip, measured by matching the
loudness envelope of what was sent against that of the microphone (`EchoDelay`), and AEC3 aligns
the last tens of milliseconds itself. Without an echo found (a browser cancels its own), the
microphone passes untouched: AEC3 on a clean microphone still damped the person's voice by half or
more while the coach spoke, and barge-ins were missed. Until the round trip is measured (the first
1-2 s of the session's first reply), the microphone is `unsure` and the voice loop does not take
what it hears for the person: the price is that a person cannot barge in during that time.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

import av
import numpy as np
from livekit import rtc

from realtime.media.audio_in import MicrophoneResampler

RATE = 16_000
FRAME = RATE // 100  # the module works on 10 ms frames
_FRAME_S = FRAME / RATE
_AEC_MARGIN_S = 0.05  # left for AEC3's own delay search, which wants the far end first
_SPEECH_DB = 40.0  # a 10 ms frame louder than this (int16 RMS 100) is the coach speaking
_SURE_AFTER_S = 2.0
_CONVERGE_S = 1.0
# Residual echo: with the round trip known, a microphone frame no louder than the coach's speech
# around that round trip (±_ECHO_SPREAD_S, for a loaded machine's timing) times the measured echo
# gain, plus _DOUBLE_TALK_DB, is only the coach coming back: AEC3 misaligned under load let such
# frames through as speech. A person talking over the coach is louder than their echo.
_ECHO_SPREAD_S = 0.15
_DOUBLE_TALK_DB = 2.0
# An echo comes back quieter than the coach said it (-6 dB in the speakerphone test). A "match" the
# microphone hears louder is the person: in a browser test a question asked over the coach's cue
# matched its loudness envelope at +4.8 dB, and the question was then taken for the coach's echo.
_MAX_ECHO_GAIN_DB = 0.0
_MIN_ROUND_TRIP = 5  # 10 ms frames: a browser test once "found" its echo at a round trip of 0 s


class EchoDelay:
    """Round trip from a frame sent to its echo in the microphone, from the two loudness envelopes.

    Every `every_s`, the last `window_s` of 10 ms energies (dB) of both are correlated at lags up to
    `max_s` (over at least `min_overlap_s`, so the first estimate comes well within the first
    reply); a peak of `min_correlation` or more while the coach spoke is the round trip."""

    def __init__(self, max_s: float = 1.5, window_s: float = 2.0, every_s: float = 0.25,
                 min_correlation: float = 0.6, min_overlap_s: float = 0.6) -> None:
        self.max_lag = int(max_s / _FRAME_S)
        self.window = int(window_s / _FRAME_S)
        self.min_overlap = int(min_overlap_s / _FRAME_S)
        self.every_s = every_s
        self.min_correlation = min_correlation
        self._far: dict[int, float] = {}
        self._near: dict[int, float] = {}
        self._next_estimate = 0.0
        self.delay_s: float | None = None
        self.far_speech_s = 0.0  # how long the coach has spoken into this session so far
        self._converged_at = float("-inf")
        self._candidate: int | None = None
        self.last_far_speech = float("-inf")
        self.echo_gain_db: float | None = None  # microphone level over the coach's, at the round trip

    def far(self, t: float, samples: np.ndarray) -> None:
        level = _db(samples)
        self._far[int(t / _FRAME_S)] = level
        if level >= _SPEECH_DB:
            self.far_speech_s += _FRAME_S
            self.last_far_speech = t

    def unsure(self, t: float) -> bool:
        """The coach spoke within the last `max_s` and its echo is neither measured (or measured
        under `_CONVERGE_S` ago, and AEC3 is still adapting) nor known to be absent: what the
        microphone hears now may be the coach. After `_SURE_AFTER_S` of the coach's speech without
        a match, the client cancels its own echo (a browser) and nothing is unsure again."""
        if t - self.last_far_speech > self.max_lag * _FRAME_S:
            return False  # nothing the coach said can still be coming back
        if self.delay_s is None:
            return not self.no_echo
        return t < self._converged_at  # only the echo found in the first reply holds the microphone

    @property
    def no_echo(self) -> bool:
        """The coach spoke `_SURE_AFTER_S` and nothing came back: the client cancels its own echo,
        and nothing is measured any more (a match found later, with the person talking over the
        coach, would only be their voices resembling each other)."""
        return self.delay_s is None and self.far_speech_s >= _SURE_AFTER_S

    def only_echo(self, t: float) -> bool:
        """The microphone frame at t is no louder than the coach's echo could make it (see
        _DOUBLE_TALK_DB): nobody but the coach is heard. False until the echo is measured."""
        if self.delay_s is None or self.echo_gain_db is None:
            return False
        near = self._near.get(int(t / _FRAME_S))
        if near is None:
            return False
        at = int((t - self.delay_s) / _FRAME_S)
        spread = int(_ECHO_SPREAD_S / _FRAME_S)
        far = [self._far[k] for k in range(at - spread, at + spread + 1) if k in self._far]
        return bool(far) and max(far) >= _SPEECH_DB and near < max(far) + self.echo_gain_db + _DOUBLE_TALK_DB

    def near(self, t: float, samples: np.ndarray) -> None:
        if self.no_echo:
            return
        self._near[int(t / _FRAME_S)] = _db(samples)
        if t >= self._next_estimate:
            # Once found, the round trip only drifts: looked at again every few seconds.
            self._next_estimate = t + (self.every_s if self.delay_s is None else 4 * self.every_s)
            self._estimate(int(t / _FRAME_S))

    def _estimate(self, now: int) -> None:
        oldest = now - self.window - self.max_lag
        for env in (self._far, self._near):
            for key in [k for k in env if k < oldest]:
                del env[key]
        bins = np.arange(now - self.window, now)
        near = np.array([self._near.get(b, np.nan) for b in bins])
        far = np.array([self._far.get(b, np.nan) for b in range(now - self.window - self.max_lag, now)])
        recent = far[-self.window - self.max_lag // 2:]
        if np.count_nonzero(~np.isnan(recent)) < self.min_overlap or np.nanstd(recent) < 3.0:
            return  # the coach was (nearly) silent: nothing to match
        # Every lag at once: row k of `windows` is the far end k bins before the microphone window.
        # Only the bins where the coach was speaking count: an echo follows its syllables, while
        # a person who starts and stops talking about when the coach does only matches its
        # silence-to-speech steps (a browser test "found" its echo that way).
        windows = np.lib.stride_tricks.sliding_window_view(far, self.window)[::-1]
        valid = ~np.isnan(windows) & ~np.isnan(near)[None, :] & (np.nan_to_num(windows) >= _SPEECH_DB)
        counts = valid.sum(axis=1)
        a = np.where(valid, near[None, :], 0.0)
        b = np.where(valid, windows, 0.0)
        with np.errstate(invalid="ignore", divide="ignore"):
            a = np.where(valid, a - a.sum(axis=1, keepdims=True) / counts[:, None], 0.0)
            b = np.where(valid, b - b.sum(axis=1, keepdims=True) / counts[:, None], 0.0)
            correlation = (a * b).sum(axis=1) / np.sqrt((a * a).sum(axis=1) * (b * b).sum(axis=1))
        correlation[(counts < self.min_overlap) | ~np.isfinite(correlation)] = -1.0
        correlation[:_MIN_ROUND_TRIP] = -1.0  # sound comes back after the network and the device, never at once
        best_lag = int(np.argmax(correlation))
        if correlation[best_lag] <= self.min_correlation:
            best_lag = None
        candidate, self._candidate = self._candidate, best_lag
        if best_lag is None or candidate is None or abs(best_lag - candidate) > 3:
            return  # a peak counts once the next estimate finds it again (two speech envelopes can match once)
        lagged = windows[best_lag]
        speech = valid[best_lag]  # the coach's speech at that lag, heard by the microphone
        gain = float(np.median(near[speech] - lagged[speech])) if np.count_nonzero(speech) >= self.min_overlap // 2 \
            else None
        if gain is None or gain > _MAX_ECHO_GAIN_DB:
            # Too little of the coach's speech at that lag to tell, or louder than the coach said it:
            # a person whose speech's rhythm matched the coach's.
            self._candidate = None
            return
        if self.delay_s is None and self.far_speech_s < _SURE_AFTER_S:
            self._converged_at = now * _FRAME_S + _CONVERGE_S  # AEC3 adapts to the alignment meanwhile
        self.delay_s = best_lag * _FRAME_S
        self.echo_gain_db = gain


class EchoCanceller:
    """One per session; both sides are fed on the event loop (reply track sender, microphone)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._apm = rtc.AudioProcessingModule(echo_cancellation=True, noise_suppression=False,
                                              high_pass_filter=True, auto_gain_control=False)
        self._clock = clock
        self._far_resampler = MicrophoneResampler()
        self._far = np.zeros(0, np.int16)
        self._near = np.zeros(0, np.int16)
        self._held: deque[tuple[float, np.ndarray]] = deque()  # far frames not yet given to AEC3
        self.delay = EchoDelay()
        self._last_only_echo = False

    def played(self, frame: av.AudioFrame) -> None:
        """A frame the reply track sent (speech or silence): the far end to cancel."""
        if self.delay.no_echo:
            return
        now = self._clock()
        self._far = np.concatenate([self._far, _to_int16(self._far_resampler.convert(frame))])
        whole = self._far.size // FRAME * FRAME
        for k, start in enumerate(range(0, whole, FRAME)):
            samples = self._far[start:start + FRAME]
            self._held.append((now + k * _FRAME_S, samples))
            self.delay.far(now + k * _FRAME_S, samples)
        self._far = self._far[whole:]

    @property
    def echo_found(self) -> bool:
        """The coach's voice was found coming back in this microphone (a speakerphone)."""
        return self.delay.delay_s is not None

    @property
    def no_echo(self) -> bool:
        """The client cancels its own echo: nothing of the coach's voice comes back (`EchoDelay.no_echo`)."""
        return self.delay.no_echo

    def unsure(self) -> bool:
        """The microphone may be hearing the coach's voice not yet cancelled (`EchoDelay.unsure`)."""
        return self.delay.unsure(self._clock())

    def only_echo(self) -> bool:
        """The microphone's last 10 ms hold nothing louder than the coach's own echo (`EchoDelay.only_echo`)."""
        return self._last_only_echo

    def cleaned(self, pcm: np.ndarray) -> np.ndarray:
        """Microphone audio (16 kHz float32) with the coach's voice removed; whole 10 ms frames
        only, the rest is kept for the next call (at most 10 ms later)."""
        if self.delay.no_echo:
            return pcm  # nothing to cancel, for the rest of the session
        now = self._clock()
        self._near = np.concatenate([self._near, _to_int16(pcm)])
        whole = self._near.size // FRAME * FRAME
        out = np.empty(whole, np.int16)
        for start in range(0, whole, FRAME):
            samples = self._near[start:start + FRAME]
            t = now - (whole - start - FRAME) / RATE  # the newest frame arrived now
            self.delay.near(t, samples)
            lead = max(0.0, (self.delay.delay_s or 0.0) - _AEC_MARGIN_S)
            while self._held and self._held[0][0] <= t - lead:
                self._apm.process_reverse_stream(_frame(self._held.popleft()[1]))
            if self.delay.delay_s is None:
                out[start:start + FRAME] = samples  # no echo found: the person's voice as it came
                continue
            frame = _frame(samples)
            self._apm.process_stream(frame)
            out[start:start + FRAME] = np.frombuffer(frame.data, dtype=np.int16)
        self._near = self._near[whole:]
        if whole:  # the voice loop reads one verdict per push: the newest frame's
            self._last_only_echo = self.delay.only_echo(now)
        while self._held and self._held[0][0] < now - 2 * self.delay.max_lag * _FRAME_S:
            self._held.popleft()  # never let a stalled microphone grow the queue
        return out.astype(np.float32) / 32768.0


def _db(samples: np.ndarray) -> float:
    return 10.0 * float(np.log10(np.mean(samples.astype(np.float32) ** 2) + 1.0))


def _to_int16(pcm: np.ndarray) -> np.ndarray:
    return (np.clip(pcm, -1.0, 1.0) * 32767).astype(np.int16)


def _frame(samples: np.ndarray) -> rtc.AudioFrame:
    return rtc.AudioFrame(data=samples.tobytes(), sample_rate=RATE, num_channels=1, samples_per_channel=FRAME)
