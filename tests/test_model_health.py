"""Model families load in the background: clients are told as they become ready, and a family that
cannot load is reported unavailable with its reason while the rest of the server works."""

from __future__ import annotations

import asyncio
import json

import aiohttp
import pytest
import websockets

pytestmark = pytest.mark.slow


async def test_clients_hear_when_models_load_and_why_one_cannot(start_server, tmp_path) -> None:
    server = await start_server(load_models=True, models={"asr": {"model": str(tmp_path / "no-such-whisper")}})
    async with websockets.connect(f"ws://127.0.0.1:{server.port}/ws") as ws:
        hello = json.loads(await ws.recv())
        assert "loading" in hello["models"].values()  # connected before the models were there
        while True:
            message = json.loads(await asyncio.wait_for(ws.recv(), 120))
            if message["type"] == "status" and message.get("models") and \
                    "loading" not in message["models"].values():
                break
        assert message["models"]["asr"] == "unavailable"
        assert message["models"]["llm"] == "ready" and message["models"]["pose"] == "ready"
        await ws.send(json.dumps({"type": "chat", "text": "Hello coach"}))  # text still works without ASR
        while (reply := json.loads(await asyncio.wait_for(ws.recv(), 60)))["type"] != "reply":
            pass
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{server.url}/health") as resp:
            health = await resp.json()
    assert health["status"] == "degraded"
    assert "no-such-whisper" in health["models"]["asr"]["reason"]
