"""A real aiortc peer (standing in for a mobile app) against the real server on loopback."""

from __future__ import annotations

import asyncio

import numpy as np

from tests.rtc_client import ArrayAudioTrack, ArrayVideoTrack, EncodedVideoTrack, RtcTestClient


def moving_square(index: int, width: int = 640, height: int = 480) -> np.ndarray:
    frame = np.full((height, width, 3), 40, np.uint8)
    x = (index * 8) % (width - 80)
    frame[200:280, x:x + 80] = (0, 200, 255)
    return frame


def tone(seconds: float, rate: int = 48_000, hz: float = 440.0) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (0.3 * 32767 * np.sin(2 * np.pi * hz * t)).astype(np.int16)


async def test_video_audio_and_datachannel_session(server) -> None:
    client = RtcTestClient(server.url, video=ArrayVideoTrack(moving_square),
                           audio=ArrayAudioTrack(tone(1.0), loop=True))
    await client.connect()
    try:
        hello = await client.wait_for(lambda m: m["type"] == "hello")
        assert hello["session_id"] == client.session_id and hello["v"] == 1
        client.send({"type": "ping", "t": 1.5})
        assert (await client.wait_for(lambda m: m["type"] == "pong"))["t"] == 1.5
        await asyncio.sleep(2.0)
        live = server.sessions[client.session_id]
        assert live.frames_received >= 40, live.frames_received
        assert live.audio_seconds >= 1.5
        # the reply track plays (silence while idle) at 50 frames per second
        assert len(client.received_audio) >= 60
    finally:
        await client.close()


async def test_pre_encoded_vp8_video_reaches_the_server_as_frames(server) -> None:
    """The benchmark's client plays packets it encoded up front (as if on the person's phone)."""
    client = RtcTestClient(server.url, video=EncodedVideoTrack([moving_square(i, 320, 240) for i in range(30)]))
    await client.connect()
    try:
        await client.wait_for(lambda m: m["type"] == "hello")
        await asyncio.sleep(2.0)
        live = server.sessions[client.session_id]
        assert live.frames_received >= 40, live.frames_received  # looped past its 30 frames
        assert "VP8" in client.pc.remoteDescription.sdp and "H264" not in client.pc.localDescription.sdp
    finally:
        await client.close()
