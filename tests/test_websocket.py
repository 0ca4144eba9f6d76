"""The websocket text fallback, driven by a real `websockets` client."""

from __future__ import annotations

import json

import pytest
import websockets

LIMIT = 16 * 1024


async def recv_json(ws: websockets.ClientConnection, timeout: float = 5.0) -> dict:
    import asyncio
    return json.loads(await asyncio.wait_for(ws.recv(), timeout))


async def test_hello_ping_and_bad_input_keep_the_socket_open(server) -> None:
    async with websockets.connect(f"ws://127.0.0.1:{server.port}/ws") as ws:
        hello = await recv_json(ws)
        assert hello["type"] == "hello" and hello["v"] == 1
        bad_inputs = [
            ("{nope", "bad_json"),
            ('{"type": "teleport"}', "unknown_type"),
            ('{"type": "chat", "text": ""}', "invalid"),
            (json.dumps({"type": "chat", "text": "a" * 100}) + " " * LIMIT, "too_large"),
            ('{"type": "exercise", "exercise": "underwater basket weaving"}', "unknown_exercise"),
            ("[" * 5000, "bad_json"),  # deeper than the JSON parser recurses
            ('{"type": ["chat"]}', "unknown_type"),
        ]
        for raw, code in bad_inputs:
            await ws.send(raw)
            reply = await recv_json(ws)
            assert reply["type"] == "error" and reply["code"] == code, (raw[:40], reply)
        await ws.send(b"\x00\x01binary")
        assert (await recv_json(ws))["code"] == "unsupported"
        await ws.send('{"type": "ping", "t": 7}')
        assert await recv_json(ws) == {"v": 1, "type": "pong", "t": 7.0}
        session_id = hello["session_id"]
        assert server.sessions[session_id].transport == "websocket"
    # closing the socket ends the session
    import asyncio
    for _ in range(50):
        if session_id not in server.sessions:
            break
        await asyncio.sleep(0.02)
    assert session_id not in server.sessions


async def test_token_in_query_for_websocket(start_server) -> None:
    srv = await start_server(token="tok")
    with pytest.raises(websockets.InvalidStatus) as err:
        async with websockets.connect(f"ws://127.0.0.1:{srv.port}/ws"):
            pass
    assert err.value.response.status_code == 401
    async with websockets.connect(f"ws://127.0.0.1:{srv.port}/ws?token=tok") as ws:
        assert (await recv_json(ws))["type"] == "hello"


async def test_websocket_beyond_session_limit_is_told_why(start_server) -> None:
    srv = await start_server(limits={"max_sessions": 1})
    async with websockets.connect(f"ws://127.0.0.1:{srv.port}/ws") as first:
        await recv_json(first)
        async with websockets.connect(f"ws://127.0.0.1:{srv.port}/ws") as second:
            message = await recv_json(second)
            assert message["type"] == "error" and message["code"] == "busy"
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await second.recv()
            assert closed.value.rcvd.code == 1013


async def test_a_client_report_of_what_the_person_heard_reaches_the_metrics(server) -> None:
    """`heard`: the client's own voice-to-voice for a turn, kept as a histogram and in the record."""
    async with websockets.connect(f"ws://127.0.0.1:{server.port}/ws") as ws:
        session_id = (await recv_json(ws))["session_id"]
        await ws.send(json.dumps({"type": "heard", "turn": 1, "voice_to_voice_ms": 840}))
        await ws.send(json.dumps({"type": "heard", "turn": 2, "voice_to_voice_ms": -5}))
        assert (await recv_json(ws))["code"] == "invalid"  # only the bad report is answered
        await ws.send('{"type": "ping"}')
        assert (await recv_json(ws))["type"] == "pong"
    registry = server.ctx.metrics.registry
    assert registry.get_sample_value("coach_voice_to_voice_client_seconds_count") == 1
    assert registry.get_sample_value("coach_voice_to_voice_client_seconds_sum") == pytest.approx(0.84)
    assert server.ctx.store.flush()
    record = server.ctx.store.get(session_id)
    assert any(e.get("voice_to_voice_ms") == 840 for group in record.values() if isinstance(group, list)
               for e in group)
