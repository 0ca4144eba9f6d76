"""Microphone audio to the voice loop's format: 16 kHz mono float32 in [-1, 1].

aiortc decodes Opus to 48 kHz stereo s16 whatever the source; WHIP publishers and tests may send
other rates and layouts. libav's resampler (through PyAV) handles any of them and keeps its
filter state between frames, so chunk edges do not click.
"""

from __future__ import annotations

import av
import numpy as np

TARGET_RATE = 16_000


class MicrophoneResampler:
    """Converts av.AudioFrames of any rate, layout and sample format to 16 kHz mono float32."""

    def __init__(self) -> None:
        self._resampler: av.AudioResampler | None = None
        self._source: tuple[int, str, str] | None = None

    def convert(self, frame: av.AudioFrame) -> np.ndarray:
        source = (frame.sample_rate, frame.layout.name, frame.format.name)
        if source != self._source:
            # A new input shape (renegotiation, another publisher): start a fresh filter.
            self._resampler = av.AudioResampler(format="flt", layout="mono", rate=TARGET_RATE)
            self._source = source
        assert self._resampler is not None
        out = [f.to_ndarray().reshape(-1) for f in self._resampler.resample(frame)]
        if not out:
            return np.zeros(0, dtype=np.float32)
        return np.concatenate(out).astype(np.float32, copy=False)
