"""Where a reply's speech goes, per transport: the WebRTC reply track, or websocket audio frames.

Both are `speaker.AudioSink`s, written from the TTS worker thread. Each is handed only what it
writes to (the track; the channel's send), and the turn's gate: a speculative reply's audio waits
until its turn is confirmed. `on_first_sent` runs once the turn's first audio is on its way.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import numpy as np

from realtime.media.reply_track import ReplyAudioTrack
from realtime.voice.gate import Gate


class TrackAudioSink:
    """Reply speech onto the WebRTC reply track (48 kHz); it stamps the first frame on the wire."""

    sample_rate = 48_000

    def __init__(self, track: ReplyAudioTrack, gate: Gate, on_first_sent: Callable[[], None]) -> None:
        self._track = track
        self._gate = gate
        self._on_first_sent = on_first_sent

    def write(self, pcm: np.ndarray, first: bool) -> None:
        track = self._track
        self._gate.run(lambda: track.enqueue(pcm, on_first_sent=self._on_first_sent if first else None))


class WebSocketAudioSink:
    """Reply speech as binary PCM16 websocket frames at the synthesiser's own rate.

    send_audio(data, rate) runs on the event loop `loop` (the writer is the TTS thread)."""

    def __init__(self, send_audio: Callable[[bytes, int], object], rate: int, loop: asyncio.AbstractEventLoop,
                 gate: Gate, on_first_sent: Callable[[], None]) -> None:
        self.sample_rate = rate
        self._send_audio = send_audio
        self._loop = loop
        self._gate = gate
        self._on_first_sent = on_first_sent

    def write(self, pcm: np.ndarray, first: bool) -> None:
        data = pcm.astype("<i2").tobytes()

        def send() -> None:
            self._loop.call_soon_threadsafe(self._send_audio, data, self.sample_rate)
            if first:
                self._loop.call_soon_threadsafe(self._on_first_sent)

        self._gate.run(send)
