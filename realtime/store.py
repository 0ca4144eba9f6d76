"""Session records in SQLite (WAL): written as things happen, read back by `GET /sessions/{id}`.

Writes go through one writer thread with a queue, so the event loop never waits on the disk and
every record is committed on its own: a server killed with SIGKILL keeps everything up to the last
record that was handed over. Reads open their own connection (WAL lets them run beside writes).
"""

from __future__ import annotations

import json
import logging
import queue
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    id TEXT PRIMARY KEY,
    transport TEXT NOT NULL,
    client TEXT,
    started_at REAL NOT NULL,
    ended_at REAL,
    end_reason TEXT
);
CREATE TABLE IF NOT EXISTS records (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id TEXT NOT NULL REFERENCES sessions(id),
    t REAL NOT NULL,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS records_by_session ON records(session_id, seq);
"""

# Record kinds grouped under their own key in the session view; anything else lands in "events".
_GROUPS = {"set": "sets", "rep": "reps", "turn": "turns", "latency": "latency"}


class SessionStore:
    """Durable per-session log: sessions table plus an append-only records table."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as conn:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.executescript(_SCHEMA)
        self._queue: queue.Queue[tuple[str, tuple[Any, ...]] | threading.Event | None] = queue.Queue()
        self._writer = threading.Thread(target=self._write_loop, name="session-store", daemon=True)
        self._writer.start()

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=10, check_same_thread=False)
        conn.execute("PRAGMA synchronous=NORMAL")
        return conn

    # ------------------------------------------------------------------ writes (never block)

    def session_started(self, session_id: str, transport: str, client: str | None) -> None:
        self._queue.put((
            "INSERT OR REPLACE INTO sessions (id, transport, client, started_at) VALUES (?, ?, ?, ?)",
            (session_id, transport, client, time.time()),
        ))

    def record(self, session_id: str, kind: str, payload: dict[str, Any]) -> None:
        """Append one record (a rep, a set, a transcript turn, a latency breakdown ...)."""
        self._queue.put((
            "INSERT INTO records (session_id, t, kind, payload) VALUES (?, ?, ?, ?)",
            (session_id, time.time(), kind, json.dumps(payload, default=str)),
        ))

    def session_ended(self, session_id: str, reason: str) -> None:
        self._queue.put((
            "UPDATE sessions SET ended_at = ?, end_reason = ? WHERE id = ?",
            (time.time(), reason, session_id),
        ))

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until every record handed over so far is committed."""
        done = threading.Event()
        self._queue.put(done)
        return done.wait(timeout)

    def close(self) -> None:
        self._queue.put(None)
        self._writer.join(timeout=5)

    def _write_loop(self) -> None:
        conn = self._connect()
        try:
            while (item := self._queue.get()) is not None:
                if isinstance(item, threading.Event):
                    item.set()
                    continue
                sql, params = item
                try:
                    with conn:
                        conn.execute(sql, params)
                except sqlite3.Error:
                    log.exception("session store: write failed (%s)", sql.split()[0])
        finally:
            conn.close()

    # ------------------------------------------------------------------ reads

    def get(self, session_id: str) -> dict[str, Any] | None:
        """The whole record of one session, grouped for people to read; None if unknown."""
        with self._connect() as conn:
            conn.row_factory = sqlite3.Row
            row = conn.execute("SELECT * FROM sessions WHERE id = ?", (session_id,)).fetchone()
            if row is None:
                return None
            view: dict[str, Any] = dict(row)
            view.update({group: [] for group in _GROUPS.values()})
            view["events"] = []
            for rec in conn.execute(
                "SELECT t, kind, payload FROM records WHERE session_id = ? ORDER BY seq", (session_id,)
            ):
                entry = {"t": rec["t"], "kind": rec["kind"], **json.loads(rec["payload"])}
                view[_GROUPS.get(rec["kind"], "events")].append(entry)
        return view
