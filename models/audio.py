"""Audio format helpers shared by the voice families (VAD, ASR, TTS) and the voice loop.

The voice models speak different rates: Silero VAD and Whisper want 16 kHz mono float32, Piper
produces 22.05 kHz int16, and WebRTC (Opus) wants 48 kHz. Resampling uses libswresample through
PyAV (`av.AudioResampler`): it is already a dependency of the media stack, keeps filter state across
chunks (no clicks at chunk edges), and measured here 1.6 ms per 3 s of 22.05 kHz -> 48 kHz audio,
about 3x faster than `scipy.signal.resample_poly`, which is stateless per call.
"""

from __future__ import annotations

import fractions

import av
import numpy as np

ASR_SAMPLE_RATE = 16_000
"""Rate that Silero VAD and Whisper expect."""

WEBRTC_SAMPLE_RATE = 48_000
"""Rate of the reply track (Opus always runs at 48 kHz)."""


def int16_to_float32(pcm: np.ndarray) -> np.ndarray:
    """int16 PCM -> float32 in [-1, 1), the format the VAD and ASR models take."""
    return (np.asarray(pcm, dtype=np.int16).astype(np.float32)) / 32768.0


def float32_to_int16(samples: np.ndarray) -> np.ndarray:
    """float32 in [-1, 1] -> int16 PCM, clipping instead of wrapping around on overshoot."""
    return (np.clip(np.asarray(samples, dtype=np.float32), -1.0, 1.0) * 32767.0).astype(np.int16)


class StreamResampler:
    """Resamples one mono stream chunk by chunk, keeping the filter state between chunks.

    One instance per stream and per thread (libswresample state is not shared). Input may be int16
    or float32; output is int16 mono at `out_rate`. Call `flush()` at the end of the stream to get
    the samples still held in the filter.
    """

    def __init__(self, in_rate: int, out_rate: int = WEBRTC_SAMPLE_RATE) -> None:
        self.in_rate = in_rate
        self.out_rate = out_rate
        self._resampler = av.AudioResampler(format="s16", layout="mono", rate=out_rate)
        self._pts = 0

    def push(self, samples: np.ndarray) -> np.ndarray:
        """Resample one chunk; returns what the filter can emit now (may be a few samples short)."""
        pcm = samples if samples.dtype == np.int16 else float32_to_int16(samples)
        if pcm.size == 0:
            return np.zeros(0, dtype=np.int16)
        frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(pcm.reshape(1, -1)), format="s16", layout="mono")
        frame.sample_rate = self.in_rate
        frame.time_base = fractions.Fraction(1, self.in_rate)
        frame.pts = self._pts
        self._pts += pcm.size
        return self._collect(self._resampler.resample(frame))

    def flush(self) -> np.ndarray:
        """Drain the filter at the end of a stream."""
        return self._collect(self._resampler.resample(None))

    @staticmethod
    def _collect(frames: list[av.AudioFrame]) -> np.ndarray:
        if not frames:
            return np.zeros(0, dtype=np.int16)
        return np.concatenate([f.to_ndarray().reshape(-1) for f in frames]).astype(np.int16, copy=False)


def resample(samples: np.ndarray, in_rate: int, out_rate: int) -> np.ndarray:
    """Resample a whole clip at once (int16 or float32 in, same dtype out)."""
    if in_rate == out_rate:
        return samples
    resampler = StreamResampler(in_rate, out_rate)
    out = np.concatenate([resampler.push(samples), resampler.flush()])
    return int16_to_float32(out) if samples.dtype != np.int16 else out
