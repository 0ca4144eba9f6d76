"""10,000 generated malformed inputs against a live server: no 5xx, nobody loses their session.

Mutations of a real aiortc offer (lines dropped, doubled, swapped, cut, bytes flipped) to `/offer`
and `/whip`, broken JSON and odd bodies, odd paths and methods, and garbage on 40 open websockets
and a live WebRTC data channel. Afterwards the server answers `/health`, every websocket and the
data channel still answer a ping, the real client kept its session, and the process has not grown
without bound. Seeded: a failure
names the input that caused it and comes back on the next run.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections import Counter
from pathlib import Path

import aiohttp
import websockets

from realtime.http_api import SESSIONS
from tests.rtc_client import ArrayVideoTrack, RtcTestClient, offer_sdp
from tests.test_webrtc_client import moving_square

SEED = 19
OFFERS, WHIPS, ODD_REQUESTS = 3000, 2000, 1000
SOCKETS, PER_SOCKET = 40, 75
DATA_CHANNEL = 1000
CONCURRENCY = 16
RSS_GROWTH_MB = 200


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def mutate(text: str, rng: random.Random) -> str:
    """One to three edits of the kinds that break parsers: whole lines and single characters."""
    lines = text.split("\r\n")
    for _ in range(rng.randint(1, 3)):
        op = rng.randrange(8)
        i = rng.randrange(len(lines)) if lines else 0
        if not lines:
            lines = [""]
        if op == 0:
            del lines[i]
        elif op == 1:
            lines.insert(i, lines[i])
        elif op == 2:
            j = rng.randrange(len(lines))
            lines[i], lines[j] = lines[j], lines[i]
        elif op == 3 and lines[i]:
            k = rng.randrange(len(lines[i]))
            lines[i] = lines[i][:k] + chr(rng.choice([0, 10, 13, 32, 58, 61, 0xFFFD, rng.randrange(33, 127)])) + lines[i][k + 1:]
        elif op == 4:
            lines = lines[:i]
        elif op == 5 and ":" in lines[i]:
            head = lines[i].split(":", 1)[0]
            lines[i] = f"{head}:{rng.choice(['', '-1', '99999999999999999999', 'x' * 300, 'null', '0 0 0'])}"
        elif op == 6 and " " in lines[i]:
            words = lines[i].split(" ")
            words[rng.randrange(len(words))] = rng.choice(["", "0", "-5", "abc", "65536", "9" * 30])
            lines[i] = " ".join(words)
        else:
            lines.insert(i, rng.choice(["a=mid:0", "a=group:BUNDLE 9", "m=video 0 RTP/AVP 0", "a=ssrc:1 cname:",
                                        "a=rtpmap:96 VP8/0", "c=IN IP4 999.1.1.1", "a=sctp-port:0", "b=AS:-1"]))
    return "\r\n".join(lines)


def offer_body(sdp: str, rng: random.Random) -> bytes:
    kind = rng.random()
    if kind < 0.7:
        return json.dumps({"type": "offer", "sdp": mutate(sdp, rng)}).encode()
    if kind < 0.8:
        return json.dumps(rng.choice([{"sdp": 5, "type": "offer"}, {"sdp": None}, [], None, "offer", 3.5,
                                      {"type": ["offer"], "sdp": sdp}, {"type": "offer", "sdp": {"x": 1}}])).encode()
    if kind < 0.9:
        return bytes(rng.randrange(256) for _ in range(rng.randrange(1, 400)))
    return mutate(json.dumps({"type": "offer", "sdp": sdp}), rng).encode("utf-8", "surrogatepass")


def ws_message(rng: random.Random) -> str | bytes:
    kind = rng.randrange(7)
    if kind == 0:
        return bytes(rng.randrange(256) for _ in range(rng.randrange(0, 3000)))  # "audio" frames of any length
    if kind == 1:
        return mutate(json.dumps({"v": 1, "type": "settings", "cue_verbosity": "low"}), rng)
    if kind == 2:
        return json.dumps({"v": rng.choice([0, 1, 2, "1", None]), "type": rng.choice(
            ["exercise", "settings", "ping", "chat", "", "hello", "x" * 50, 7])} | rng.choice(
            [{}, {"exercise": rng.choice(["squat", "", None, 5, "a" * 500])}, {"t": rng.choice(["x", 1e308, -1])},
             {"cue_verbosity": rng.choice(["loud", 3, None])}, {"voice": "yes"}, {"text": ""}]))
    if kind == 3:
        return "".join(chr(rng.randrange(1, 0x3000)) for _ in range(rng.randrange(1, 200)))
    if kind == 4:
        return "[" * rng.randrange(1, 5000)  # deep nesting
    if kind == 5:
        return json.dumps({"type": "ping", "t": 1}) + " " * rng.randrange(16 * 1024, 40 * 1024)  # oversize
    return rng.choice(["", "{}", "null", "[]", '{"type": null}', '{"v": 1}', "1e999999", '"\\ud800"'])


async def test_ten_thousand_malformed_inputs(start_server) -> None:
    # Every request comes from 127.0.0.1: per-address rates would answer most of them 429 unread.
    srv = await start_server(limits={"max_sessions": SOCKETS + 8, "offers_per_minute": 1e6, "offer_burst": 100_000,
                                     "websockets_per_minute": 1e6, "websocket_burst": 100_000})
    rng = random.Random(SEED)
    sdp = await offer_sdp()
    statuses: Counter[int] = Counter()
    fives: list[str] = []
    gate = asyncio.Semaphore(CONCURRENCY)
    rss_before = rss_mb()

    async def request(http: aiohttp.ClientSession, method: str, path: str, data: bytes,
                      headers: dict[str, str]) -> None:
        async with gate, http.request(method, f"{srv.url}{path}", data=data, headers=headers) as resp:
            await resp.read()
            statuses[resp.status] += 1
            if resp.status >= 500:
                fives.append(f"{method} {path} {data[:300]!r} -> {resp.status}")

    sockets = [await websockets.connect(f"ws://127.0.0.1:{srv.port}/ws", max_size=None) for _ in range(SOCKETS)]
    for ws in sockets:
        assert json.loads(await ws.recv())["type"] == "hello"
    client = RtcTestClient(srv.url, video=ArrayVideoTrack(moving_square))
    await client.connect()
    await client.wait_for(lambda m: m["type"] == "hello")
    assert client.session_id not in srv.app[SESSIONS].pending  # connected: no flood can displace it
    served = srv.sessions[client.session_id]

    async def drain(ws: websockets.ClientConnection) -> None:
        async for _ in ws:
            pass

    # The data channel's garbage first, and its ping then: the client runs on this process's event
    # loop, which the HTTP flood below saturates for ~40 s, long enough for its ICE consent checks
    # to lapse (a phone has its own CPU).
    for _ in range(DATA_CHANNEL):
        message = ws_message(rng)
        client.send(message if isinstance(message, str) else message.decode("latin-1"))
        await asyncio.sleep(0.002)
    client.send({"v": 1, "type": "ping", "t": 43})
    await client.wait_for(lambda m: m["type"] == "pong" and m.get("t") == 43)
    assert not served.closing, served.end_reason
    await client.close()

    readers = [asyncio.ensure_future(drain(ws)) for ws in sockets]
    async with aiohttp.ClientSession() as http:
        jobs = []
        for _ in range(OFFERS):
            jobs.append(request(http, "POST", "/offer", offer_body(sdp, rng), {}))
        for _ in range(WHIPS):
            ctype = "application/sdp" if rng.random() < 0.9 else rng.choice(["text/plain", "application/json", ""])
            jobs.append(request(http, "POST", "/whip", mutate(sdp, rng).encode("utf-8", "surrogatepass"),
                                {"Content-Type": ctype}))
        for _ in range(ODD_REQUESTS):
            method = rng.choice(["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"])
            path = rng.choice(["/offer", "/whip", f"/whip/{rng.randrange(10**9)}", f"/sessions/{'x' * rng.randrange(1, 300)}",
                               "/sessions/", "/ws", "/static/../../etc/passwd", "/%2e%2e/%2e%2e", "/health?x=%ff",
                               "/metrics", "/" + "a/" * rng.randrange(1, 100), "/static/app.js?" + "q" * 2000])
            jobs.append(request(http, method, path, bytes(rng.randrange(256) for _ in range(rng.randrange(0, 200))),
                                {"Content-Type": rng.choice(["application/sdp", "application/json", "x/y"])}))
        rng.shuffle(jobs)

        async def garbage_on_sockets() -> None:
            for _ in range(PER_SOCKET):
                for ws in sockets:
                    await ws.send(ws_message(rng))
                await asyncio.sleep(0)

        await asyncio.gather(*jobs, garbage_on_sockets())

        async with http.get(f"{srv.url}/health") as resp:
            assert resp.status == 200

    assert not fives, fives[:5]
    assert sum(statuses.values()) == OFFERS + WHIPS + ODD_REQUESTS
    for reader in readers:
        reader.cancel()
    await asyncio.gather(*readers, return_exceptions=True)
    for ws in sockets:  # every websocket still answers
        await ws.send(json.dumps({"v": 1, "type": "ping", "t": 42}))
        while (reply := json.loads(await asyncio.wait_for(ws.recv(), 10.0)))["type"] != "pong":
            pass
        assert reply["t"] == 42
        await ws.close()
    assert rss_mb() - rss_before < RSS_GROWTH_MB
