"""The coach's voice: an outgoing audio track of 20 ms, 48 kHz mono frames paced by the clock.

The voice loop enqueues speech as it is synthesised; `recv()` (called by aiortc's sender) takes
960 samples per frame, or silence when there is nothing to say, so the track never stalls. After
the event loop itself stalls, the frames it could not send are skipped, not sent in a burst.
`flush()` empties it at once for barge-in; `hold()` sends silence and keeps what is queued, until
`release()` (or a flush), for a moment of doubt whether the person began to speak. A segment can
carry a callback that fires when its first sample leaves, which is how voice-to-voice latency is
measured at the wire, not at the synthesiser.
"""

from __future__ import annotations

import asyncio
import fractions
import threading
import time
from collections import deque
from collections.abc import Callable

import av
import numpy as np
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

SAMPLE_RATE = 48_000
FRAME_SAMPLES = 960  # 20 ms
_TIME_BASE = fractions.Fraction(1, SAMPLE_RATE)
_MAX_LATE_S = 0.1  # later than this, the frames a stall left unsent are skipped, not sent in a burst


class _Segment:
    __slots__ = ("pcm", "offset", "on_first_sent")

    def __init__(self, pcm: np.ndarray, on_first_sent: Callable[[], None] | None) -> None:
        self.pcm = pcm
        self.offset = 0
        self.on_first_sent = on_first_sent


class ReplyAudioTrack(MediaStreamTrack):
    """Paced 48 kHz mono track fed from a thread-safe queue of int16 segments."""

    kind = "audio"

    def __init__(self, on_sent: Callable[[float], None] | None = None,
                 on_frame: Callable[[av.AudioFrame], None] | None = None) -> None:
        """`on_sent`: seconds of speech sent, per frame; `on_frame`: every frame sent, silence too
        (the echo canceller's far end)."""
        super().__init__()
        self._segments: deque[_Segment] = deque()
        self._lock = threading.Lock()
        self._start: float | None = None
        self._pts = 0
        self._on_sent = on_sent
        self._on_frame = on_frame
        self._held = False

    def enqueue(self, pcm: np.ndarray, on_first_sent: Callable[[], None] | None = None) -> None:
        """Queue int16 mono 48 kHz samples; safe from any thread."""
        if pcm.dtype != np.int16 or pcm.ndim != 1:
            raise ValueError("reply audio must be 1-D int16 at 48 kHz")
        if len(pcm) == 0 and on_first_sent is None:
            return
        with self._lock:
            self._segments.append(_Segment(pcm, on_first_sent))

    def flush(self) -> float:
        """Drop everything not yet sent (and end a hold); returns the seconds of speech dropped."""
        with self._lock:
            pending = sum(len(s.pcm) - s.offset for s in self._segments)
            self._segments.clear()
            self._held = False
        return pending / SAMPLE_RATE

    def hold(self) -> None:
        """Send silence from the next frame on, keeping the queue where it is."""
        with self._lock:
            self._held = True

    def release(self) -> None:
        """Go on from where `hold` stopped."""
        with self._lock:
            self._held = False

    @property
    def held(self) -> bool:
        with self._lock:
            return self._held

    @property
    def pending_seconds(self) -> float:
        with self._lock:
            return sum(len(s.pcm) - s.offset for s in self._segments) / SAMPLE_RATE

    def _take(self) -> tuple[np.ndarray, list[Callable[[], None]], int]:
        out = np.zeros(FRAME_SAMPLES, dtype=np.int16)
        callbacks: list[Callable[[], None]] = []
        filled = 0
        with self._lock:
            while filled < FRAME_SAMPLES and self._segments and not self._held:
                seg = self._segments[0]
                if seg.offset == 0 and seg.on_first_sent is not None:
                    callbacks.append(seg.on_first_sent)
                n = min(FRAME_SAMPLES - filled, len(seg.pcm) - seg.offset)
                out[filled:filled + n] = seg.pcm[seg.offset:seg.offset + n]
                seg.offset += n
                filled += n
                if seg.offset >= len(seg.pcm):
                    self._segments.popleft()
        return out, callbacks, filled

    async def recv(self) -> av.AudioFrame:
        if self.readyState != "live":
            raise MediaStreamError
        if self._start is None:
            self._start = time.monotonic()
        else:
            self._pts += FRAME_SAMPLES
            wait = self._start + self._pts / SAMPLE_RATE - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            elif wait < -_MAX_LATE_S:
                # A stall (a loaded machine) left frames unsent. Sent now, back to back, they would
                # reach the client as a burst of stale audio its jitter buffer plays as added delay
                # (or reads as jitter and raises its target delay for good). Their time is skipped
                # instead: the timestamps jump as far as the clock did, and what is queued is sent
                # from here, late but not lost.
                self._pts += int(-wait * SAMPLE_RATE) // FRAME_SAMPLES * FRAME_SAMPLES
        samples, callbacks, filled = self._take()
        for callback in callbacks:
            callback()
        if filled and self._on_sent is not None:
            self._on_sent(filled / SAMPLE_RATE)
        frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = SAMPLE_RATE
        frame.pts = self._pts
        frame.time_base = _TIME_BASE
        if self._on_frame is not None:
            self._on_frame(frame)
        return frame
