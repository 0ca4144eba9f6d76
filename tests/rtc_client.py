"""A pure-Python WebRTC client (aiortc) standing in for a mobile app in tests and benchmarks.

It sends generated video and real or generated audio, opens a data channel, collects every
message the server sends and records the reply audio it hears.
"""

from __future__ import annotations

import asyncio
import fractions
import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import aiohttp
import av
import numpy as np
from aiortc import RTCConfiguration, RTCPeerConnection, RTCRtpSender, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

VIDEO_TIME_BASE = fractions.Fraction(1, 90_000)


class _PacedVideoTrack(MediaStreamTrack):
    """A video track that hands out one frame slot every 1/fps seconds, as a camera does."""

    kind = "video"

    def __init__(self, fps: float) -> None:
        super().__init__()
        self._fps = fps
        self._index = 0
        self._start: float | None = None

    async def _next_slot(self) -> tuple[int, int]:
        """Wait for the next frame's time; returns (frame index, pts in the 90 kHz clock)."""
        if self._start is None:
            self._start = time.monotonic()
        target = self._start + self._index / self._fps
        if (wait := target - time.monotonic()) > 0:
            await asyncio.sleep(wait)
        index, self._index = self._index, self._index + 1
        return index, int(index * 90_000 / self._fps)


class ArrayVideoTrack(_PacedVideoTrack):
    """Plays frames from a callable frame_index -> BGR ndarray at a fixed rate."""

    def __init__(self, make_frame: Callable[[int], np.ndarray], fps: float = 30.0) -> None:
        super().__init__(fps)
        self._make = make_frame

    async def recv(self) -> av.VideoFrame:
        index, pts = await self._next_slot()
        frame = av.VideoFrame.from_ndarray(self._make(index), format="bgr24")
        frame.pts, frame.time_base = pts, VIDEO_TIME_BASE
        return frame


class EncodedVideoTrack(_PacedVideoTrack):
    """Plays frames encoded once to VP8 up front, looped at a fixed rate.

    A phone or a browser encodes its camera on its own device. A client sharing the server's two
    cores and encoding live takes CPU the server would not have to share in use: aiortc's VP8
    encoder ran at ~15% of a core during the voice benchmark. The server receives, decodes and
    analyses the same kind of stream either way.
    """

    def __init__(self, frames: list[np.ndarray], fps: float = 30.0, kbps: int = 1500, keyframe_every: int = 60) -> None:
        super().__init__(fps)
        height, width = frames[0].shape[:2]
        encoder = av.CodecContext.create("libvpx", "w")
        encoder.width, encoder.height, encoder.pix_fmt = width, height, "yuv420p"
        encoder.time_base = fractions.Fraction(1, round(fps))
        encoder.bit_rate = kbps * 1000
        encoder.gop_size = keyframe_every
        encoder.options = {"deadline": "realtime", "lag-in-frames": "0"}  # one packet per frame, in order
        self._packets: list[bytes] = []
        for i, image in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(image, format="bgr24").reformat(format="yuv420p")
            frame.pts = i
            self._packets += [bytes(packet) for packet in encoder.encode(frame)]
        self._packets += [bytes(packet) for packet in encoder.encode(None)]
        assert len(self._packets) == len(frames), "libvpx must give one packet per frame to loop cleanly"

    async def recv(self) -> av.Packet:
        index, pts = await self._next_slot()
        packet = av.Packet(self._packets[index % len(self._packets)])  # frame 0 is a keyframe
        packet.pts, packet.time_base = pts, VIDEO_TIME_BASE
        return packet


class ArrayAudioTrack(MediaStreamTrack):
    """Plays int16 mono samples at `rate` in 20 ms frames, then silence (or loops)."""

    kind = "audio"

    def __init__(self, samples: np.ndarray, rate: int = 48_000, loop: bool = False) -> None:
        super().__init__()
        self._samples = samples.astype(np.int16)
        self._rate = rate
        self._loop = loop
        self._pos = 0
        self._start: float | None = None
        self._sent = 0
        self.speech_done_at: float | None = None

    def play(self, samples: np.ndarray) -> None:
        """Replace what is played next (e.g. speak a question now)."""
        self._samples = samples.astype(np.int16)
        self._pos = 0
        self.speech_done_at = None

    async def recv(self) -> av.AudioFrame:
        n = self._rate // 50
        if self._start is None:
            self._start = time.monotonic()
        target = self._start + self._sent / self._rate
        if (wait := target - time.monotonic()) > 0:
            await asyncio.sleep(wait)
        chunk = self._samples[self._pos:self._pos + n]
        self._pos += len(chunk)
        if self._pos >= len(self._samples):
            if self._loop:
                self._pos = 0
            elif self.speech_done_at is None and len(self._samples):
                self.speech_done_at = time.monotonic()
        if len(chunk) < n:
            chunk = np.concatenate([chunk, np.zeros(n - len(chunk), np.int16)])
        frame = av.AudioFrame.from_ndarray(chunk.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = self._rate
        frame.pts = self._sent
        frame.time_base = fractions.Fraction(1, self._rate)
        self._sent += n
        return frame


class SpeakerphoneTrack(ArrayAudioTrack):
    """A phone on a stand without echo cancellation: what it plays (the reply it receives) comes
    back into its microphone `delay_s` later at `gain`, mixed with what the person says (`play`)."""

    def __init__(self, delay_s: float = 0.1, gain: float = 0.5, rate: int = 48_000) -> None:
        super().__init__(np.zeros(0, np.int16), rate=rate)
        self.delay_s = delay_s
        self.gain = gain
        self._heard: tuple[list[np.ndarray], list[float]] | None = None
        self._next = 0
        self._echo = np.zeros(0, np.float32)

    def listen_to(self, client: RtcTestClient) -> None:
        """The loudspeaker: the client's received reply audio."""
        self._heard = (client.received_audio, client.received_audio_times)

    async def recv(self) -> av.AudioFrame:
        frame = await super().recv()
        if self._heard is None:
            return frame
        received, times = self._heard
        due = time.monotonic() - self.delay_s
        while self._next < len(times) and times[self._next] <= due:
            self._echo = np.concatenate([self._echo, received[self._next].astype(np.float32)])
            self._next += 1
        n = frame.samples
        echo = np.zeros(n, np.float32)
        take = min(n, self._echo.size)
        echo[:take] = self._echo[:take] * self.gain
        self._echo = self._echo[take:]
        mixed = np.clip(frame.to_ndarray().reshape(-1).astype(np.float32) + echo, -32768, 32767).astype(np.int16)
        out = av.AudioFrame.from_ndarray(mixed.reshape(1, -1), format="s16", layout="mono")
        out.sample_rate, out.pts, out.time_base = frame.sample_rate, frame.pts, frame.time_base
        return out


class RtcTestClient:
    """Connects to /offer, keeps the messages and the received reply audio."""

    def __init__(self, base_url: str, video: MediaStreamTrack | None = None,
                 audio: MediaStreamTrack | None = None, channel_label: str = "coach",
                 token: str | None = None) -> None:
        self.base_url = base_url
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self.video = video
        self.audio = audio
        self.channel_label = channel_label
        self.token = token
        self.messages: list[dict[str, Any]] = []
        self.message_times: list[float] = []  # time.monotonic() each message arrived
        self.message_event = asyncio.Event()
        self.received_audio: list[np.ndarray] = []
        self.received_audio_times: list[float] = []
        self.session_id: str | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self.channel = None

    async def connect(self, timeout: float = 10.0) -> None:
        if self.video is not None:
            self.pc.addTrack(self.video)
            if isinstance(self.video, EncodedVideoTrack):  # its packets are VP8: nothing else may be negotiated
                vp8 = [c for c in RTCRtpSender.getCapabilities("video").codecs if c.mimeType in ("video/VP8", "video/rtx")]
                next(t for t in self.pc.getTransceivers() if t.sender.track is self.video).setCodecPreferences(vp8)
        if self.audio is not None:
            self.pc.addTrack(self.audio)
        self.channel = self.pc.createDataChannel(self.channel_label)
        self.channel.on("message", self._on_message)

        @self.pc.on("track")
        def on_track(track: MediaStreamTrack) -> None:
            if track.kind == "audio":
                self._tasks.append(asyncio.ensure_future(self._record(track)))

        await self.pc.setLocalDescription(await self.pc.createOffer())
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        async with aiohttp.ClientSession() as http, http.post(f"{self.base_url}/offer", headers=headers, json={
            "sdp": self.pc.localDescription.sdp, "type": "offer"}) as resp:
            body = await resp.json()
            if resp.status != 200:
                raise RuntimeError(f"offer refused: {resp.status} {body}")
        self.session_id = body["session_id"]
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=body["sdp"], type="answer"))
        deadline = time.monotonic() + timeout
        while self.pc.connectionState != "connected":
            if time.monotonic() > deadline:
                raise TimeoutError(f"not connected: {self.pc.connectionState}")
            await asyncio.sleep(0.02)

    def _on_message(self, raw: str) -> None:
        self.messages.append(json.loads(raw))
        self.message_times.append(time.monotonic())
        self.message_event.set()

    async def _record(self, track: MediaStreamTrack) -> None:
        try:
            while True:
                frame = await track.recv()
                pcm = frame.to_ndarray().reshape(-1, len(frame.layout.channels))[:, 0]
                self.received_audio.append(pcm.copy())
                self.received_audio_times.append(time.monotonic())
        except MediaStreamError:
            return

    def send(self, message: dict[str, Any] | str) -> None:
        assert self.channel is not None
        self.channel.send(message if isinstance(message, str) else json.dumps(message))

    async def wait_for(self, predicate: Callable[[dict[str, Any]], bool], timeout: float = 10.0) -> dict[str, Any]:
        """The first message (already received or arriving) that satisfies `predicate`."""
        deadline = time.monotonic() + timeout
        seen = 0
        while True:
            for message in self.messages[seen:]:
                if predicate(message):
                    return message
            seen = len(self.messages)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"no matching message in {timeout} s; got types "
                                   f"{sorted({m.get('type') for m in self.messages})}")
            self.message_event.clear()
            try:
                await asyncio.wait_for(self.message_event.wait(), remaining)
            except TimeoutError:
                pass

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.pc.close()


async def offer_sdp() -> str:
    """A real aiortc offer (video, audio, a data channel) that nobody will answer: a base for
    malformed offers, or an offer whose peer never connects."""
    pc = RTCPeerConnection()
    pc.addTransceiver("video")
    pc.addTransceiver("audio")
    pc.createDataChannel("coach")
    await pc.setLocalDescription(await pc.createOffer())
    sdp = pc.localDescription.sdp
    await pc.close()
    return sdp


def _at_rate(path: str, fps: float | None) -> Iterator[av.VideoFrame]:
    """A video file's frames resampled to `fps` (None: as recorded): a 60 fps file played as a
    30 fps camera loses every other frame, a 24 fps one repeats some, and both keep their speed."""
    with av.open(path) as container:
        stream = container.streams.video[0]
        step = float(stream.average_rate or 30) / fps if fps else 1.0
        next_slot = 0.0
        for i, frame in enumerate(container.decode(stream)):
            while next_slot < i + 1 - 1e-6:  # the output slots that fall in this frame's time
                yield frame
                next_slot += step


def load_video_frames(path: str, size: tuple[int, int] = (640, 480), max_frames: int | None = None,
                      fps: float | None = None) -> list[np.ndarray]:
    """Decode a video file into BGR frames letterboxed to `size` (for ArrayVideoTrack), resampled
    to `fps` (`_at_rate`)."""
    import cv2

    frames: list[np.ndarray] = []
    for frame in _at_rate(path, fps):
        image = frame.to_ndarray(format="bgr24")
        h, w = image.shape[:2]
        scale = min(size[0] / w, size[1] / h)
        resized = cv2.resize(image, (int(w * scale), int(h * scale)))
        canvas = np.zeros((size[1], size[0], 3), np.uint8)
        y0, x0 = (size[1] - resized.shape[0]) // 2, (size[0] - resized.shape[1]) // 2
        canvas[y0:y0 + resized.shape[0], x0:x0 + resized.shape[1]] = resized
        frames.append(canvas)
        if max_frames and len(frames) >= max_frames:
            break
    return frames


def load_phone_frames(path: str, long_side: int = 640, fps: float = 30.0, still_s: float = 1.5) -> list[np.ndarray]:
    """A recorded clip as a phone camera would send it: upright (its display rotation applied),
    long side `long_side` px (even sides, the clip's own aspect), resampled to `fps`. Led in by
    `still_s` of an empty (black) view, the time a session takes to start and the person to choose
    an exercise, and followed by as much of its last frame: the person stays in view, as a
    recording's analysis reads its end (`Coach.finish`)."""
    import cv2

    from realtime.media.video_frames import upright_bgr

    images: list[np.ndarray] = []
    source = None
    for frame in _at_rate(path, fps):
        if frame is not source:  # a frame repeated to keep the rate is the same picture again
            source, image = frame, upright_bgr(frame)
            h, w = image.shape[:2]
            scale = long_side / max(h, w)
            size = (2 * round(w * scale / 2), 2 * round(h * scale / 2))
            image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
        images.append(image)
    still = round(still_s * fps)
    return [np.zeros_like(images[0])] * still + images + [images[-1]] * still


async def play_clip(base_url: str, frames: list[np.ndarray], exercise: str | None = None,
                    fps: float = 30.0) -> tuple[list[dict[str, Any]], float]:
    """Plays `frames` to the server once as a phone's camera (VP8, `fps`), with `exercise` chosen
    first (None: "recognise for me"), and leaves as they are done (the analysis of the last ones
    still under way). Returns every message the server sent and the seconds streamed."""
    # The track loops its frames: it is given a second more of the last one than is played.
    client = RtcTestClient(base_url, video=EncodedVideoTrack(frames + [frames[-1]] * round(fps), fps=fps))
    await client.connect()
    started = time.monotonic()
    try:
        await client.wait_for(lambda m: m["type"] == "hello")
        if exercise is not None:
            client.send({"type": "exercise", "exercise": exercise})
            await client.wait_for(lambda m: m["type"] == "status" and m.get("state") == "exercise")
        await asyncio.sleep(max(0.0, len(frames) / fps + 0.5 - (time.monotonic() - started)))
    finally:
        await client.close()
    return client.messages, time.monotonic() - started
