"""Who may use the server and how often: session tokens, allowed origins, rate limits, admission by load.

The logic on a scripted clock first (fast), then each rule against a live server.
"""

from __future__ import annotations

import asyncio
import json

import aiohttp
import pytest
import websockets

from models.health import FamilyStatus, ModelState
from realtime.access import RateLimiter, SessionTokens, origin_allowed
from realtime.analysis_load import AnalysisLoad
from tests.rtc_client import ArrayVideoTrack, RtcTestClient, offer_sdp
from tests.test_webrtc_client import moving_square


class Clock:
    def __init__(self, t: float = 1_000_000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def test_session_tokens_expire_and_cannot_be_forged() -> None:
    clock = Clock()
    tokens = SessionTokens("master", clock=clock)
    token, expires = tokens.mint(60)
    assert tokens.verify(token) and expires == int(clock.t + 60)
    assert not SessionTokens("other master", clock=clock).verify(token)
    body, signature = token.rsplit(".", 1)
    later = body.replace(str(expires), str(expires + 3600))
    assert not tokens.verify(f"{later}.{signature}")  # a longer life cannot be written in
    assert not any(tokens.verify(bad) for bad in ("", "master", "st1.x.y.z", "st1..."))
    clock.t += 61
    assert not tokens.verify(token)


def test_rate_limiter_allows_a_burst_then_the_rate() -> None:
    clock = Clock()
    limiter = RateLimiter(per_minute=6, burst=3, clock=clock)
    assert [limiter.take("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.take("a") == pytest.approx(10.0)  # one token every 10 s
    assert limiter.take("b") == 0.0  # every address has its own bucket
    clock.t += 10
    assert limiter.take("a") == 0.0 and limiter.take("a") > 0


def test_rate_limiter_forgets_the_oldest_clients_first() -> None:
    limiter = RateLimiter(per_minute=1, burst=1, clock=Clock(), max_keys=2)
    limiter.take("a")
    limiter.take("b")
    limiter.take("c")  # "a" is forgotten: a full bucket again
    assert limiter.take("a") == 0.0 and limiter.take("c") > 0


@pytest.mark.parametrize(("origin", "allowed", "ok"), [
    (None, ["https://coach.example"], True),  # not a browser
    ("https://coach.example", ["https://coach.example/"], True),
    ("https://evil.example", ["https://coach.example"], False),
    ("http://127.0.0.1:8080", ["https://coach.example"], True),  # the server's own page
    ("https://evil.example", [], True),  # no list: as before the setting
])
def test_origins(origin: str | None, allowed: list[str], ok: bool) -> None:
    assert origin_allowed(origin, allowed, "127.0.0.1:8080") is ok


def test_analysis_capacity_is_shared_among_sessions() -> None:
    clock = Clock()
    load = AnalysisLoad(window_s=10.0, min_frames=30, clock=clock)
    assert load.fps_per_session(2) is None  # nothing measured: no refusal on guesswork
    for _ in range(40):
        load.record(0.05)  # 20 frames a second of capacity
    assert load.fps_per_session(1) == pytest.approx(20.0)
    assert load.fps_per_session(3) == pytest.approx(20.0 / 3)
    clock.t += 11
    assert load.fps_per_session(2) is None  # old measurements expire


def test_two_vision_workers_give_twice_the_frames_their_wall_time_says() -> None:
    load = AnalysisLoad(window_s=10.0, min_frames=30, workers=2, clock=Clock())
    for _ in range(40):
        load.record(0.1)  # each worker: 10 frames a second
    assert load.fps_per_session(4) == pytest.approx(5.0)


async def request(method: str, url: str, **kwargs: object) -> tuple[int, dict[str, str], str]:
    async with aiohttp.ClientSession() as http, http.request(method, url, **kwargs) as resp:  # type: ignore[arg-type]
        return resp.status, dict(resp.headers), await resp.text()


async def test_a_page_gets_a_session_token_that_opens_sessions_but_not_records(start_server) -> None:
    srv = await start_server(token="master", session_token_ttl_s=2.0)
    assert (await request("POST", f"{srv.url}/token"))[0] == 401
    status, _, text = await request("POST", f"{srv.url}/token", headers={"Authorization": "Bearer master"},
                                    data=json.dumps({"ttl_s": 30}))
    minted = json.loads(text)
    assert status == 200 and minted["ttl_s"] == 2.0  # capped at the setting
    bearer = {"Authorization": f"Bearer {minted['token']}"}
    assert (await request("POST", f"{srv.url}/offer", data="{}", headers=bearer))[0] == 400  # past the token check
    assert (await request("GET", f"{srv.url}/sessions/abc", headers=bearer))[0] == 401
    assert (await request("POST", f"{srv.url}/token", headers=bearer))[0] == 401  # no tokens from tokens
    async with websockets.connect(f"ws://127.0.0.1:{srv.port}/ws?token={minted['token']}") as ws:
        assert json.loads(await ws.recv())["type"] == "hello"
    client = RtcTestClient(srv.url, video=ArrayVideoTrack(moving_square), token=minted["token"])
    await client.connect()
    await client.close()
    await asyncio.sleep(2.1)
    assert (await request("POST", f"{srv.url}/offer", data="{}", headers=bearer))[0] == 401  # expired
    bad = await request("POST", f"{srv.url}/token", headers={"Authorization": "Bearer master"}, data="{\"ttl_s\": -1}")
    assert bad[0] == 400


async def test_pages_from_other_origins_are_refused(start_server) -> None:
    srv = await start_server(allowed_origins=["https://coach.example"])
    status, _, text = await request("POST", f"{srv.url}/offer", data="{}", headers={"Origin": "https://evil.example"})
    assert status == 403 and "evil.example" in text
    for origin in ("https://coach.example", srv.url):
        assert (await request("POST", f"{srv.url}/offer", data="{}", headers={"Origin": origin}))[0] == 400
    with pytest.raises(websockets.InvalidStatus):
        async with websockets.connect(f"ws://127.0.0.1:{srv.port}/ws", origin="https://evil.example"):
            pass
    _, _, metrics = await request("GET", f"{srv.url}/metrics")
    assert 'coach_requests_refused_total{reason="origin"} 2.0' in metrics


async def test_rate_limit_answers_429(start_server) -> None:
    srv = await start_server(limits={"offers_per_minute": 6, "offer_burst": 3})
    statuses = [(await request("POST", f"{srv.url}/offer", data="{}"))[0] for _ in range(3)]
    status, headers, _ = await request("POST", f"{srv.url}/offer", data="{}")
    assert statuses == [400, 400, 400] and status == 429 and int(headers["Retry-After"]) >= 9
    assert (await request("GET", f"{srv.url}/health"))[0] == 200  # only the limited paths


async def test_a_full_server_says_when_to_come_back(start_server) -> None:
    """To the person (503 on /offer) and to the load balancer (503 on /ready), not to /health."""
    srv = await start_server(limits={"max_sessions": 1, "retry_after_s": 17}, replica="r7")
    status, _, text = await request("GET", f"{srv.url}/ready")
    assert status == 200 and json.loads(text)["replica"] == "r7"
    first = RtcTestClient(srv.url, video=ArrayVideoTrack(moving_square))
    await first.connect()
    try:
        assert first.session_id is not None and first.session_id.startswith("r7-")
        status, headers, text = await request("POST", f"{srv.url}/offer",
                                              data=json.dumps({"type": "offer", "sdp": await offer_sdp()}))
        assert status == 503 and headers["Retry-After"] == "17", text
        status, headers, text = await request("GET", f"{srv.url}/ready")
        assert status == 503 and headers["Retry-After"] == "17" and "1 sessions already" in text, text
        assert (await request("GET", f"{srv.url}/health"))[0] == 200
    finally:
        await first.close()
    for _ in range(50):  # the slot is free again once the session has closed
        if (await request("GET", f"{srv.url}/ready"))[0] == 200:
            break
        await asyncio.sleep(0.1)
    assert (await request("GET", f"{srv.url}/ready"))[0] == 200


async def test_a_replica_is_ready_without_waiting_for_the_scene_families(start_server) -> None:
    """The load balancer waits for what a session needs, not for the full profile's captions."""
    srv = await start_server()
    health = srv.ctx.health
    health.set(FamilyStatus(family="caption", state=ModelState.LOADING))
    assert (await request("GET", f"{srv.url}/ready"))[0] == 200
    health.set(FamilyStatus(family="asr", state=ModelState.LOADING))
    status, _, text = await request("GET", f"{srv.url}/ready")
    assert status == 503 and "models still loading: asr" in text, text


async def test_a_session_that_would_slow_the_others_is_refused(start_server) -> None:
    """The two vision workers measured at 6 frames a second each, 12 in all: one session may have
    them all, a second would leave each 6, under the 10 asked for."""
    srv = await start_server(limits={"min_analysed_fps": 10.0})
    first = RtcTestClient(srv.url, video=ArrayVideoTrack(moving_square))
    await first.connect()
    try:
        for _ in range(40):
            srv.ctx.hub.analysis_load.record(1 / 6)
        status, headers, text = await request("POST", f"{srv.url}/offer",
                                              data=json.dumps({"type": "offer", "sdp": await offer_sdp()}))
        assert status == 503 and "Retry-After" in headers and "6 analysed frames" in text, text
        async with websockets.connect(f"ws://127.0.0.1:{srv.port}/ws") as ws:  # text costs no analysis
            assert json.loads(await ws.recv())["type"] == "hello"
        _, _, metrics = await request("GET", f"{srv.url}/metrics")
        assert 'coach_sessions_rejected_total{reason="load"} 1.0' in metrics
    finally:
        await first.close()
