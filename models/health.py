"""Readiness of each model family, as shown by `GET /health`, the log and the demo's badge.

A family whose weights cannot be had says so here with the reason; nothing pretends.
"""

from __future__ import annotations

import enum
import threading

from pydantic import BaseModel


class ModelState(str, enum.Enum):
    READY = "ready"
    LOADING = "loading"
    UNAVAILABLE = "unavailable"


class FamilyStatus(BaseModel):
    """One family's state: which backend and source, and why it is not ready when it is not."""

    family: str
    state: ModelState
    backend: str | None = None
    source: str | None = None
    reason: str | None = None


class HealthRegistry:
    """Thread-safe map family -> status; loaders report into it from worker threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._status: dict[str, FamilyStatus] = {}

    def set(self, status: FamilyStatus) -> None:
        with self._lock:
            self._status[status.family] = status

    def get(self, family: str) -> FamilyStatus | None:
        with self._lock:
            return self._status.get(family)

    def snapshot(self) -> dict[str, FamilyStatus]:
        with self._lock:
            return dict(self._status)
