"""Where a session's messages go: the WebRTC data channel or the websocket.

Both are written to from synchronous code on the event loop (analysis results, reply deltas), so
`send` never awaits: the data channel buffers inside SCTP, the websocket has a bounded outbox
drained by one writer task. Messages to a closed or missing channel are dropped, not raised.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Protocol

from aiohttp import web
from aiortc import RTCDataChannel

from realtime.protocol import PoseOverlay, encode

log = logging.getLogger(__name__)

# Pose overlays are sent every frame; when the peer cannot keep up, newer ones matter more than old.
_MAX_BUFFERED_BYTES = 256 * 1024


class ClientChannel(Protocol):
    """Anything a session can send protocol messages (and, on websockets, audio) to."""

    def send(self, message: object) -> None: ...

    def send_audio(self, pcm16: bytes, sample_rate: int) -> bool: ...

    @property
    def is_open(self) -> bool: ...

    async def close(self) -> None: ...


class DataChannelSink:
    """Sends to the most recently opened data channel of a peer (any label)."""

    def __init__(self) -> None:
        self._channel: RTCDataChannel | None = None
        self._backlog: list[str] = []

    def attach(self, channel: RTCDataChannel) -> None:
        self._channel = channel
        if channel.readyState == "open":
            self._drain()
        else:
            channel.on("open", self._drain)

    def _drain(self) -> None:
        backlog, self._backlog = self._backlog, []
        channel = self._channel
        for text in backlog:
            if channel is not None and channel.readyState == "open":
                channel.send(text)

    @property
    def is_open(self) -> bool:
        return self._channel is not None and self._channel.readyState == "open"

    def send(self, message: object) -> None:
        # Pose overlays come every frame and only the newest matters: they are neither kept for a
        # channel still opening nor queued behind a slow peer, and not even encoded when dropped.
        droppable = isinstance(message, PoseOverlay)
        channel = self._channel
        if channel is not None and channel.readyState == "open":
            if droppable and channel.bufferedAmount > _MAX_BUFFERED_BYTES:
                return
            try:
                channel.send(encode(message))  # type: ignore[arg-type]
            except Exception:  # a channel closing under us; the session's close handles the rest
                log.debug("data channel send failed", exc_info=True)
        elif not droppable and (channel is None or channel.readyState == "connecting"):
            if len(self._backlog) < 32:  # hello and status sent before the peer's channel opens
                self._backlog.append(encode(message))  # type: ignore[arg-type]

    def send_audio(self, pcm16: bytes, sample_rate: int) -> bool:
        return False  # WebRTC peers hear replies on the audio track

    async def close(self) -> None:
        self._backlog.clear()  # the channel itself closes with its peer connection


class WebSocketSink:
    """Bounded outbox drained by a writer task; binary frames carry reply audio when asked."""

    # Binary audio frame: b"PCM1" + uint32 sample rate (little endian) + int16 mono samples.
    AUDIO_MAGIC = b"PCM1"

    def __init__(self, ws: web.WebSocketResponse, max_queue: int = 512) -> None:
        self._ws = ws
        self._queue: asyncio.Queue[str | bytes | None] = asyncio.Queue(max_queue)
        self._writer = asyncio.get_running_loop().create_task(self._write_loop(), name="ws-writer")

    @property
    def is_open(self) -> bool:
        return not self._ws.closed

    def _put(self, item: str | bytes) -> bool:
        if self._ws.closed:
            return False
        try:
            self._queue.put_nowait(item)
            return True
        except asyncio.QueueFull:
            log.warning("websocket outbox full; dropping a message for a slow client")
            return False

    def send(self, message: object) -> None:
        self._put(encode(message))  # type: ignore[arg-type]

    def send_audio(self, pcm16: bytes, sample_rate: int) -> bool:
        return self._put(self.AUDIO_MAGIC + sample_rate.to_bytes(4, "little") + pcm16)

    async def _write_loop(self) -> None:
        while (item := await self._queue.get()) is not None:
            try:
                if isinstance(item, bytes):
                    await self._ws.send_bytes(item)
                else:
                    await self._ws.send_str(item)
            except (ConnectionError, RuntimeError):
                return

    async def close(self) -> None:
        self._writer.cancel()
        try:
            await self._writer
        except asyncio.CancelledError:
            pass
