"""Session records on both engines: SQLite (one machine) and a real PostgreSQL started here,
shared by two server replicas, and a database that goes away and comes back."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest
import websockets

from deploy.postgres import LocalPostgres, PostgresMissing
from realtime.records import RecordStore, open_store
from tests.test_persistence import REPO, free_port, wait_for_health


@pytest.fixture(scope="module")
def postgres() -> Iterator[LocalPostgres]:
    try:
        server = LocalPostgres.create(free_port())
    except PostgresMissing:
        pytest.skip("PostgreSQL is not installed (scripts/test.sh installs Debian's postgresql)")
    server.start()
    try:
        yield server
    finally:
        server.destroy()


@pytest.fixture(params=["sqlite", "postgres"])
def stores(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[RecordStore, RecordStore]]:
    """Two stores on one database, as two replicas (or two processes on one machine) have."""
    url = request.getfixturevalue("postgres").url if request.param == "postgres" else None
    a, b = open_store(url, tmp_path), open_store(url, tmp_path)
    yield a, b
    a.close()
    b.close()


def test_a_session_written_by_one_store_is_read_whole_by_another(stores: tuple[RecordStore, RecordStore]) -> None:
    writer, reader = stores
    writer.session_started("s-1", "webrtc", "127.0.0.1")
    writer.record("s-1", "settings", {"cue_verbosity": "low"})
    writer.record("s-1", "rep", {"rep": 1, "depth": {"value": 92.5}})
    writer.record("s-1", "turn", {"role": "user", "text": "how deep was that?"})
    writer.record("s-1", "rep", {"rep": 2, "when": object()})  # not JSON: kept as its text
    writer.session_ended("s-1", "client closed")
    assert writer.flush()
    record = reader.get("s-1")
    assert record is not None
    assert (record["transport"], record["client"], record["end_reason"]) == ("webrtc", "127.0.0.1", "client closed")
    assert record["ended_at"] >= record["started_at"]
    assert [r["rep"] for r in record["reps"]] == [1, 2] and record["reps"][0]["depth"] == {"value": 92.5}
    assert record["turns"] == [{"t": record["turns"][0]["t"], "kind": "turn", "role": "user",
                                "text": "how deep was that?"}]
    assert [e["cue_verbosity"] for e in record["events"]] == ["low"]
    assert reader.get("no-such-session") is None


def test_postgres_going_away_mid_session_loses_no_record(postgres: LocalPostgres) -> None:
    store = open_store(postgres.url, Path("/nonexistent"))
    try:
        store.session_started("s-away", "ws", None)
        store.record("s-away", "rep", {"rep": 1})
        assert store.flush()
        postgres.stop()
        try:
            store.record("s-away", "rep", {"rep": 2})  # handed over while the database is away
            store.record("s-away", "rep", {"rep": 3})
            assert not store.flush(timeout=1.0)
        finally:
            postgres.start()
        assert store.flush(timeout=30.0)
        record = store.get("s-away")
        assert record is not None and [r["rep"] for r in record["reps"]] == [1, 2, 3]
    finally:
        store.close()


def test_records_held_for_an_absent_database_are_bounded(postgres: LocalPostgres) -> None:
    """Beyond `max_held` waiting records new ones are dropped and counted; the session's start
    and end are kept, and everything held is written once the database is back."""
    store = open_store(postgres.url, Path("/nonexistent"))
    store.max_held = 3
    try:
        postgres.stop()
        try:
            store.session_started("s-bounded", "ws", None)
            for rep in range(1, 6):
                store.record("s-bounded", "rep", {"rep": rep})
            store.session_ended("s-bounded", "client closed")
            assert store.dropped == 2
        finally:
            postgres.start()
        assert store.flush(timeout=30.0)
        record = store.get("s-bounded")
        assert record is not None and [r["rep"] for r in record["reps"]] == [1, 2, 3]
        assert record["end_reason"] == "client closed"
        store.record("s-bounded", "rep", {"rep": 6})  # room again once written
        assert store.flush() and store.dropped == 2
    finally:
        store.close()


def test_an_unreachable_database_is_a_clear_error_at_start() -> None:
    import psycopg

    with pytest.raises(psycopg.OperationalError):
        open_store(f"postgresql://coach@127.0.0.1:{free_port()}/postgres", Path("/nonexistent"))


async def test_two_replicas_on_one_postgres_serve_each_others_records(postgres: LocalPostgres, tmp_path: Path) -> None:
    """A session on one replica; its record read through the other, as behind a load balancer."""
    ports = [free_port(), free_port()]
    procs = []
    for i, port in enumerate(ports):
        env = {**os.environ, "COACH_DATA_DIR": str(tmp_path / f"replica{i}"), "COACH_LOAD_MODELS": "false",
               "COACH_RECORDS_URL": postgres.url}
        procs.append(await asyncio.create_subprocess_exec(
            sys.executable, "run_server.py", "--port", str(port), "--log-level", "WARNING", cwd=REPO, env=env))
    try:
        for port in ports:
            await wait_for_health(f"http://127.0.0.1:{port}")
        async with websockets.connect(f"ws://127.0.0.1:{ports[0]}/ws") as ws:
            session_id = json.loads(await ws.recv())["session_id"]
            await ws.send(json.dumps({"type": "settings", "cue_verbosity": "high"}))
            assert json.loads(await ws.recv())["type"] == "status"
            await ws.send(json.dumps({"type": "chat", "text": "how deep was that?"}))
            await asyncio.sleep(0.3)
        async with aiohttp.ClientSession() as http:
            for _ in range(50):  # the first replica commits the end of the session
                async with http.get(f"http://127.0.0.1:{ports[1]}/sessions/{session_id}") as resp:
                    assert resp.status in (200, 404)
                    record = await resp.json() if resp.status == 200 else None
                if record is not None and record["ended_at"] is not None:
                    break
                await asyncio.sleep(0.1)
        assert record is not None and record["ended_at"] is not None
        assert [e["cue_verbosity"] for e in record["events"] if e["kind"] == "settings"] == ["high"]
        assert record["turns"][0]["text"] == "how deep was that?"
    finally:
        for proc in procs:
            if proc.returncode is None:
                proc.terminate()
                await proc.wait()


async def test_records_that_cannot_be_read_are_a_503_not_a_500(start_server, monkeypatch: pytest.MonkeyPatch) -> None:
    import psycopg

    server = await start_server()

    def away(session_id: str) -> None:
        raise psycopg.OperationalError("connection refused")

    monkeypatch.setattr(server.ctx.store, "get", away)
    async with aiohttp.ClientSession() as http, http.get(f"{server.url}/sessions/abc") as resp:
        assert resp.status == 503 and "unavailable" in (await resp.json())["error"]
        assert "Retry-After" in resp.headers


async def test_records_dropped_while_the_database_is_away_show_in_metrics(
        start_server, postgres: LocalPostgres) -> None:
    """An operator sees records being lost on /metrics, not only in the log."""
    server = await start_server(records_url=postgres.url)
    store = server.ctx.store
    store.max_held = 1
    postgres.stop()
    try:
        store.session_started("s-metrics", "ws", None)
        for rep in range(1, 4):
            store.record("s-metrics", "rep", {"rep": rep})
        async with aiohttp.ClientSession() as http, http.get(f"{server.url}/metrics") as resp:
            assert resp.status == 200 and "coach_records_dropped_total 2.0" in await resp.text()
    finally:
        postgres.start()
    assert store.flush(timeout=30.0)
