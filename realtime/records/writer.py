"""What every records engine shares: writes queued to one writer thread, reads grouped for people.

Writes go through one writer thread with a queue, so the event loop never waits on the database
and every record is committed on its own: a server killed with SIGKILL keeps everything up to the
last record handed over. When the database goes away (a restart, a network cut), the writer keeps
the record it holds, reconnects with a growing pause and writes it then: nothing handed over is
lost while the process lives. Reads open their own connection.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Iterable
from typing import Any

log = logging.getLogger(__name__)

# Record kinds grouped under their own key in the session view; anything else lands in "events".
_GROUPS = {"set": "sets", "rep": "reps", "turn": "turns", "latency": "latency"}
_RETRY_S = (0.2, 0.5, 1.0, 2.0, 5.0)  # pauses between reconnects while the database is away


def session_view(session: dict[str, Any], records: Iterable[tuple[float, str, dict[str, Any]]]) -> dict[str, Any]:
    """One session's row and its (t, kind, payload) records, in order, grouped for people to read."""
    view: dict[str, Any] = dict(session)
    view.update({group: [] for group in _GROUPS.values()})
    view["events"] = []
    for t, kind, payload in records:
        view[_GROUPS.get(kind, "events")].append({"t": t, "kind": kind, **payload})
    return view


class QueuedRecordStore(ABC):
    """A session log (sessions plus append-only records) written from a queue by one thread.

    Engines give a connection, the statements in their dialect and the errors that mean the
    database is away; `get` reads with its own connection.

    While the database is away, records wait in memory, at most `max_held` of them (about 300
    bytes each): beyond that new records are dropped, counted in `dropped` and logged, so an
    outage costs records, never the process. Session starts and ends are always kept.
    """

    #: records waiting at most, by default (~30 MB): hours of a busy server's records
    max_held = 100_000

    #: the driver's errors that a reconnect may cure (the server went away, a connection broke)
    transient_errors: tuple[type[BaseException], ...] = ()

    def __init__(self) -> None:
        self._queue: queue.Queue[tuple[str, tuple[Any, ...]] | threading.Event | None] = queue.Queue()
        self._held = 0  # records in the queue
        self._held_lock = threading.Lock()
        self.dropped = 0
        """Records dropped because `max_held` were already waiting for the database."""
        self._writer = threading.Thread(target=self._write_loop, name="session-store", daemon=True)
        self._writer.start()

    @abstractmethod
    def _connect(self) -> Any:
        """A new connection (DB-API), schema in place."""

    @abstractmethod
    def _execute(self, conn: Any, op: str, params: tuple[Any, ...]) -> None:
        """Run and commit one write: "start" (id, transport, client, started_at; replaces a session
        of that id), "record" (session_id, t, kind, payload JSON) or "end" (ended_at, reason, id)."""

    @abstractmethod
    def get(self, session_id: str) -> dict[str, Any] | None:
        """The whole record of one session, grouped for people to read; None if unknown."""

    # ------------------------------------------------------------------ writes (never block)

    def session_started(self, session_id: str, transport: str, client: str | None) -> None:
        self._queue.put(("start", (session_id, transport, client, time.time())))

    def record(self, session_id: str, kind: str, payload: dict[str, Any]) -> None:
        """Append one record (a rep, a set, a transcript turn, a latency breakdown ...)."""
        with self._held_lock:
            if self._held >= self.max_held:
                self.dropped += 1
                if self.dropped == 1 or self.dropped % 1000 == 0:
                    log.error("session store: %d records waiting for the database; %d dropped so far",
                              self._held, self.dropped)
                return
            self._held += 1
        self._queue.put(("record", (session_id, time.time(), kind, json.dumps(payload, default=str))))

    def session_ended(self, session_id: str, reason: str) -> None:
        self._queue.put(("end", (time.time(), reason, session_id)))

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until every record handed over so far is committed."""
        done = threading.Event()
        self._queue.put(done)
        return done.wait(timeout)

    def close(self) -> None:
        self._queue.put(None)
        self._writer.join(timeout=5)

    def _write_loop(self) -> None:
        conn = None
        try:
            while (item := self._queue.get()) is not None:
                if isinstance(item, threading.Event):
                    item.set()
                    continue
                conn = self._write(conn, *item)
                if item[0] == "record":
                    with self._held_lock:
                        self._held -= 1
        finally:
            if conn is not None:
                conn.close()

    def _write(self, conn: Any, op: str, params: tuple[Any, ...]) -> Any:
        """Commit one write, reconnecting as long as the database is away; the connection to keep."""
        attempt = 0
        while True:
            try:
                if conn is None:
                    conn = self._connect()
                self._execute(conn, op, params)
                if attempt:
                    log.warning("session store: database back after %d retries", attempt)
                return conn
            except self.transient_errors as exc:
                pause = _RETRY_S[min(attempt, len(_RETRY_S) - 1)]
                if attempt == 0:
                    log.warning("session store: database away (%s); holding records, retrying", exc)
                if conn is not None:
                    _close_quietly(conn)
                conn = None
                attempt += 1
                time.sleep(pause)
            except Exception:
                log.exception("session store: write failed (%s)", op)  # a bad record: skip it, keep the rest
                return conn


def _close_quietly(conn: Any) -> None:
    try:
        conn.close()
    except Exception:  # noqa: BLE001 - a broken connection may fail to close; it is dropped anyway
        pass
