"""A model that throws mid-session is reported to the client; the session and the server go on.

The failing models here are test doubles on purpose: no real backend can be made to fail on demand.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator

import numpy as np
import websockets

from models.health import HealthRegistry
from realtime.config import load_settings
from realtime.model_hub import ModelHub
from tests.rtc_client import ArrayVideoTrack, RtcTestClient
from tests.test_webrtc_client import moving_square


class ExplodingPose:
    def infer_2d(self, image: np.ndarray) -> list:
        raise RuntimeError("pose backend crashed")


class ExplodingChat:
    calls = 0

    def stream(self, messages: list[dict[str, str]], **_: object) -> Iterator[str]:
        ExplodingChat.calls += 1
        if ExplodingChat.calls == 1:
            raise RuntimeError("llm backend crashed")
        yield "Still here."


def failing_hub(tmp_path) -> ModelHub:  # noqa: ANN001
    hub = ModelHub(load_settings(None, data_dir=tmp_path), HealthRegistry())
    hub.pose = ExplodingPose()
    hub.llm = ExplodingChat()
    return hub


async def test_pose_that_throws_is_reported_and_the_session_goes_on(start_server, tmp_path) -> None:
    hub = failing_hub(tmp_path)
    server = await start_server(hub=hub)
    client = RtcTestClient(server.url, video=ArrayVideoTrack(moving_square))
    await client.connect()
    try:
        error = await client.wait_for(lambda m: m["type"] == "error", timeout=10)
        assert error["code"] == "pose_failed" and "crashed" in error["message"]
        await asyncio.sleep(1.0)
        assert sum(1 for m in client.messages if m["type"] == "error") == 1  # reported once, not per frame
        client.send({"type": "ping", "t": 3})
        await client.wait_for(lambda m: m["type"] == "pong")
        assert server.sessions[client.session_id].frames_received > 20
    finally:
        await client.close()
    hub.close()


async def test_llm_that_throws_is_reported_and_the_next_turn_works(start_server, tmp_path) -> None:
    hub = failing_hub(tmp_path)
    server = await start_server(hub=hub)
    async with websockets.connect(f"ws://127.0.0.1:{server.port}/ws") as ws:
        await ws.recv()
        await ws.send(json.dumps({"type": "chat", "text": "first"}))
        messages = []
        while not any(m["type"] == "reply" and m["done"] for m in messages):
            messages.append(json.loads(await asyncio.wait_for(ws.recv(), 10)))
        assert any(m["type"] == "error" and m["code"] == "llm_failed" for m in messages)
        await ws.send(json.dumps({"type": "chat", "text": "second"}))
        text = ""
        while True:
            m = json.loads(await asyncio.wait_for(ws.recv(), 10))
            if m["type"] == "reply":
                text += m["delta"]
                if m["done"]:
                    break
        assert text == "Still here."
    hub.close()
