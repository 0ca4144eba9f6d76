"""Session records in PostgreSQL: one database shared by every replica of the server.

With several replicas behind a load balancer, a session's records are written by the replica
that holds its media, and `GET /sessions/{id}` may reach any other one: they all read the same
tables. Replicas starting together create the schema under an advisory lock, so two
`CREATE TABLE IF NOT EXISTS` never race.
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg.rows import dict_row

from realtime.records.writer import QueuedRecordStore, session_view

_SCHEMA_LOCK = 0x636F616368  # any constant shared by every replica ("coach")
_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS sessions (
        id TEXT PRIMARY KEY,
        transport TEXT NOT NULL,
        client TEXT,
        started_at DOUBLE PRECISION NOT NULL,
        ended_at DOUBLE PRECISION,
        end_reason TEXT
    )""",
    """CREATE TABLE IF NOT EXISTS records (
        seq BIGSERIAL PRIMARY KEY,
        session_id TEXT NOT NULL REFERENCES sessions(id),
        t DOUBLE PRECISION NOT NULL,
        kind TEXT NOT NULL,
        payload JSONB NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS records_by_session ON records (session_id, seq)",
)
_WRITES = {
    "start": "INSERT INTO sessions (id, transport, client, started_at) VALUES (%s, %s, %s, %s) "
             "ON CONFLICT (id) DO UPDATE SET transport = EXCLUDED.transport, client = EXCLUDED.client, "
             "started_at = EXCLUDED.started_at, ended_at = NULL, end_reason = NULL",
    "record": "INSERT INTO records (session_id, t, kind, payload) VALUES (%s, %s, %s, %s::jsonb)",
    "end": "UPDATE sessions SET ended_at = %s, end_reason = %s WHERE id = %s",
}


class PostgresRecordStore(QueuedRecordStore):
    """Sessions and their records in the database at `url` (postgresql://user:password@host:port/db).

    Raises psycopg.OperationalError at start when the database cannot be reached: a replica that
    cannot keep records should not take sessions. Once running, the database going away only
    delays the writes (`writer.py`)."""

    transient_errors = (psycopg.OperationalError, psycopg.InterfaceError)

    def __init__(self, url: str, connect_timeout_s: float = 5.0) -> None:
        self.url = url
        self._timeout = max(1, round(connect_timeout_s))
        self._connect().close()  # schema in place, and a clear error now rather than later
        super().__init__()

    def _connect(self) -> psycopg.Connection[Any]:
        conn = psycopg.connect(self.url, connect_timeout=self._timeout, autocommit=True)
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK,))
            for statement in _SCHEMA:
                conn.execute(statement)
        return conn

    def _execute(self, conn: psycopg.Connection[Any], op: str, params: tuple[Any, ...]) -> None:
        with conn.transaction():
            conn.execute(_WRITES[op], params)

    def get(self, session_id: str) -> dict[str, Any] | None:
        with psycopg.connect(self.url, connect_timeout=self._timeout, row_factory=dict_row) as conn:
            row = conn.execute("SELECT * FROM sessions WHERE id = %s", (session_id,)).fetchone()
            if row is None:
                return None
            rows = conn.execute("SELECT t, kind, payload FROM records WHERE session_id = %s ORDER BY seq",
                                (session_id,)).fetchall()
        return session_view(row, ((r["t"], r["kind"], r["payload"]) for r in rows))
