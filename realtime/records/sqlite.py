"""Session records in one SQLite file (WAL): the default, for a server on one machine."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from realtime.records.writer import QueuedRecordStore, session_view

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

_WRITES = {
    "start": "INSERT OR REPLACE INTO sessions (id, transport, client, started_at) VALUES (?, ?, ?, ?)",
    "record": "INSERT INTO records (session_id, t, kind, payload) VALUES (?, ?, ?, ?)",
    "end": "UPDATE sessions SET ended_at = ?, end_reason = ? WHERE id = ?",
}


class SqliteRecordStore(QueuedRecordStore):
    """Sessions and their records in `path`; reads run beside the writer (WAL)."""

    transient_errors = (sqlite3.OperationalError,)  # "database is locked"

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as conn:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.executescript(_SCHEMA)
        super().__init__()

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=10, check_same_thread=False)
        conn.execute("PRAGMA synchronous=NORMAL")
        return conn

    def _execute(self, conn: sqlite3.Connection, op: str, params: tuple[Any, ...]) -> None:
        with conn:  # commits
            conn.execute(_WRITES[op], params)

    def get(self, session_id: str) -> dict[str, Any] | None:
        conn = self._connect()
        try:
            conn.row_factory = sqlite3.Row
            row = conn.execute("SELECT * FROM sessions WHERE id = ?", (session_id,)).fetchone()
            if row is None:
                return None
            rows = conn.execute("SELECT t, kind, payload FROM records WHERE session_id = ? ORDER BY seq",
                                (session_id,)).fetchall()
        finally:
            conn.close()
        return session_view(dict(row), ((r["t"], r["kind"], json.loads(r["payload"])) for r in rows))
