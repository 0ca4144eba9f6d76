"""HTTP endpoints against a live server: signaling errors, limits, token, health, metrics, WHIP."""

from __future__ import annotations

import asyncio
import json
import logging

import aiohttp
import pytest
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription

from realtime.config import load_settings
from realtime.server import serve
from tests.rtc_client import ArrayVideoTrack, RtcTestClient, offer_sdp
from tests.test_webrtc_client import moving_square


async def post(url: str, **kwargs: object) -> tuple[int, str]:
    async with aiohttp.ClientSession() as http, http.post(url, **kwargs) as resp:  # type: ignore[arg-type]
        return resp.status, await resp.text()


async def get(url: str, **kwargs: object) -> tuple[int, str]:
    async with aiohttp.ClientSession() as http, http.get(url, **kwargs) as resp:  # type: ignore[arg-type]
        return resp.status, await resp.text()


@pytest.mark.parametrize(("body", "needle"), [
    ("not json", "invalid JSON"),
    ('["sdp"]', "JSON object"),
    ('{"type": "offer"}', "missing SDP"),
    ('{"sdp": "v=0", "type": "answer"}', "expected type 'offer'"),
    ('{"sdp": "hello", "type": "offer"}', "v=0"),
    ("[" * 5000, "invalid JSON"),
    ('{"sdp": "v=0\\r\\ns=-\\r\\n", "type": "offer"}', "no media section"),
    ('{"sdp": "v=0\\r\\nm=video 9 UDP/TLS/RTP/SAVPF 96\\r\\na=fingerprint:sha-256 00\\r\\n", "type": "offer"}',
     "malformed SDP"),
])
async def test_malformed_offers_get_400_with_a_reason(server, body: str, needle: str) -> None:
    status, text = await post(f"{server.url}/offer", data=body)
    assert status == 400, text
    assert needle in text
    assert server.sessions == {}  # nothing half-made is left behind


@pytest.mark.parametrize("mutation", ["no mid", "same mid twice"])
async def test_offers_that_parse_but_cannot_be_answered_get_400(server, mutation: str) -> None:
    """aiortc accepts these offers and then fails to build the answer: still the client's fault."""
    sdp = await offer_sdp()
    if mutation == "no mid":
        sdp = "\r\n".join(line for line in sdp.split("\r\n") if not line.startswith("a=mid:"))
    else:
        sdp = sdp.replace("a=mid:1", "a=mid:0")
    for path in ("/offer", "/whip"):
        body = {"data": json.dumps({"type": "offer", "sdp": sdp})} if path == "/offer" else \
            {"data": sdp, "headers": {"Content-Type": "application/sdp"}}
        status, text = await post(f"{server.url}{path}", **body)
        assert status == 400, text
        assert "offer cannot be answered" in text
    assert server.sessions == {}


async def test_oversize_offer_gets_413(server) -> None:
    status, _ = await post(f"{server.url}/offer", data=b"x" * (64 * 1024 + 1))
    assert status == 413


async def test_token_guards_signaling_but_not_health(start_server) -> None:
    srv = await start_server(token="s3cret")
    assert (await post(f"{srv.url}/offer", data="{}"))[0] == 401
    assert (await post(f"{srv.url}/offer", data="{}", headers={"Authorization": "Bearer nope"}))[0] == 401
    assert (await post(f"{srv.url}/offer", data="{}", headers={"Authorization": "Bearer s3cret"}))[0] == 400
    assert (await get(f"{srv.url}/sessions/abc"))[0] == 401
    assert (await get(f"{srv.url}/sessions/abc?token=s3cret"))[0] == 404
    assert (await get(f"{srv.url}/health"))[0] == 200
    client = RtcTestClient(srv.url, video=ArrayVideoTrack(moving_square), token="s3cret")
    await client.connect()
    await client.close()


async def test_session_limit_answers_503(start_server) -> None:
    srv = await start_server(limits={"max_sessions": 1})
    first = RtcTestClient(srv.url, video=ArrayVideoTrack(moving_square))
    await first.connect()
    try:
        second = RtcTestClient(srv.url, video=ArrayVideoTrack(moving_square))
        with pytest.raises(RuntimeError, match="503.*limit"):
            await second.connect()
        await second.close()
        async with aiohttp.ClientSession() as http, http.get(f"{srv.url}/metrics") as resp:
            assert 'coach_sessions_rejected_total{reason="busy"} 1.0' in await resp.text()
    finally:
        await first.close()


async def test_offers_that_never_connect_cannot_lock_out_a_real_client(start_server) -> None:
    """50 offers whose peers never connect, then a real client: it connects within 5 s. Sessions
    waiting to connect count apart from max_sessions, and the oldest of them makes room. (The
    offers and the person share 127.0.0.1 here, so the per-address rate is raised: it would
    otherwise stop the offers at 10, test_rate_limit_answers_429 below.)"""
    srv = await start_server(limits={"max_sessions": 2, "max_pending": 4, "offer_burst": 60})
    sdp = await offer_sdp()  # a valid offer whose answer nobody will ever apply
    body = json.dumps({"type": "offer", "sdp": sdp})
    for _ in range(50):
        status, text = await post(f"{srv.url}/offer", data=body)
        assert status == 200, text
        assert len(srv.sessions) <= 4
    started = asyncio.get_running_loop().time()
    client = RtcTestClient(srv.url, video=ArrayVideoTrack(moving_square))
    await client.connect()
    await client.wait_for(lambda m: m["type"] == "hello")
    assert asyncio.get_running_loop().time() - started < 5.0
    assert client.session_id in srv.sessions
    _, metrics = await get(f"{srv.url}/metrics")
    assert 'coach_sessions_rejected_total{reason="displaced"} 47.0' in metrics  # 51 offers, room for 4
    await client.close()


async def test_health_metrics_and_session_record(server) -> None:
    status, text = await get(f"{server.url}/health")
    assert status == 200 and '"profile": "embedded"' in text
    client = RtcTestClient(server.url, video=ArrayVideoTrack(moving_square))
    await client.connect()
    await client.wait_for(lambda m: m["type"] == "hello")
    client.send({"type": "settings", "cue_verbosity": "low"})
    await client.wait_for(lambda m: m["type"] == "status" and m["state"] == "settings")
    await asyncio.sleep(1.0)
    status, text = await get(f"{server.url}/metrics")
    assert status == 200
    assert 'coach_sessions_active{transport="webrtc"} 1.0' in text
    assert "coach_video_frames_received_total" in text
    server.ctx.store.flush()
    status, text = await get(f"{server.url}/sessions/{client.session_id}")
    assert status == 200 and '"live": true' in text and '"cue_verbosity": "low"' in text
    await client.close()
    assert (await get(f"{server.url}/sessions/nope"))[0] == 404
    assert (await get(f"{server.url}/"))[0] == 200
    assert (await get(f"{server.url}/static/app.js"))[0] == 200


async def whip_offer() -> tuple[RTCPeerConnection, str]:
    """A publisher like OBS or GStreamer: send-only video, no data channel."""
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    pc.addTransceiver(ArrayVideoTrack(moving_square), direction="sendonly")
    await pc.setLocalDescription(await pc.createOffer())
    return pc, pc.localDescription.sdp


async def test_whip_publish_and_delete(server) -> None:
    pc, sdp = await whip_offer()
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{server.url}/whip", data=sdp, headers={"Content-Type": "application/sdp"}) as resp:
            assert resp.status == 201
            assert resp.content_type == "application/sdp"
            location = resp.headers["Location"]
            answer = await resp.text()
        await pc.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))
        for _ in range(200):
            if pc.connectionState == "connected":
                break
            await asyncio.sleep(0.02)
        session_id = location.rsplit("/", 1)[1]
        await asyncio.sleep(1.0)
        assert server.sessions[session_id].frames_received > 10
        async with http.patch(f"{server.url}{location}", data="") as resp:
            assert resp.status == 405
        async with http.delete(f"{server.url}{location}") as resp:
            assert resp.status == 200
        assert session_id not in server.sessions
        async with http.delete(f"{server.url}{location}") as resp:
            assert resp.status == 404
        async with http.post(f"{server.url}/whip", data=sdp, headers={"Content-Type": "text/plain"}) as resp:
            assert resp.status == 415
        async with http.post(f"{server.url}/whip", data="junk", headers={"Content-Type": "application/sdp"}) as resp:
            assert resp.status == 400
    await pc.close()


async def test_non_loopback_bind_without_token_warns(caplog: pytest.LogCaptureFixture, tmp_path) -> None:
    settings = load_settings(None, host="0.0.0.0", port=0, data_dir=tmp_path, load_models=False)
    task = asyncio.ensure_future(serve(settings))
    with caplog.at_level(logging.WARNING):
        await asyncio.sleep(0.5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert any("NO TOKEN" in r.message for r in caplog.records)
