"""Session records: what happened in each session (sets, reps, turns, latencies), kept durably.

`RecordStore` is the port the server writes through and `GET /sessions/{id}` reads from;
`open_store` picks the engine: SQLite in the data folder for one machine (the default), or
PostgreSQL when `records_url` is set, shared by several replicas.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol


class RecordStore(Protocol):
    """Writes never block the caller (a writer thread commits them in order)."""

    dropped: int
    """Records dropped because too many were waiting for an absent database."""

    def session_started(self, session_id: str, transport: str, client: str | None) -> None: ...

    def record(self, session_id: str, kind: str, payload: dict[str, Any]) -> None: ...

    def session_ended(self, session_id: str, reason: str) -> None: ...

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until every write handed over so far is committed (False: not within timeout)."""
        ...

    def close(self) -> None: ...

    def get(self, session_id: str) -> dict[str, Any] | None:
        """The whole record of one session, grouped for people to read; None if unknown."""
        ...


def open_store(records_url: str | None, data_dir: Path) -> RecordStore:
    """PostgreSQL at `records_url` when given, else SQLite at <data_dir>/sessions.sqlite3."""
    if records_url:
        from realtime.records.postgres import PostgresRecordStore  # psycopg only where it is used

        return PostgresRecordStore(records_url)
    from realtime.records.sqlite import SqliteRecordStore

    return SqliteRecordStore(data_dir / "sessions.sqlite3")
