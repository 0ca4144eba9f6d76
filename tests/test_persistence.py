"""Session records survive the server being killed: SQLite in WAL mode, one commit per record."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sys
from pathlib import Path

import aiohttp
import websockets

from realtime.records.sqlite import SqliteRecordStore

REPO = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def wait_for_health(url: str, timeout: float = 30.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    async with aiohttp.ClientSession() as http:
        while True:
            try:
                async with http.get(f"{url}/health") as resp:
                    if resp.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError("server did not start")
            await asyncio.sleep(0.1)


async def test_sigkill_mid_session_keeps_every_completed_record(tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "COACH_DATA_DIR": str(tmp_path), "COACH_LOAD_MODELS": "false"}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "run_server.py", "--port", str(port), "--log-level", "WARNING", cwd=REPO, env=env)
    try:
        await wait_for_health(f"http://127.0.0.1:{port}")
        async with websockets.connect(f"ws://127.0.0.1:{port}/ws") as ws:
            hello = json.loads(await ws.recv())
            session_id = hello["session_id"]
            for verbosity in ("low", "high", "normal"):
                await ws.send(json.dumps({"type": "settings", "cue_verbosity": verbosity}))
                assert json.loads(await ws.recv())["type"] == "status"
            await ws.send(json.dumps({"type": "chat", "text": "how deep was that?"}))
            await asyncio.sleep(0.3)  # the record is handed to the writer; give it its commit
            os.kill(proc.pid, signal.SIGKILL)
            await proc.wait()
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    record = SqliteRecordStore(tmp_path / "sessions.sqlite3").get(session_id)
    assert record is not None
    assert record["ended_at"] is None  # it never got to say goodbye
    assert [e["cue_verbosity"] for e in record["events"] if e["kind"] == "settings"] == ["low", "high", "normal"]
    assert record["turns"][0]["text"] == "how deep was that?"
