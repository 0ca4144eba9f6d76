"""What every session shares with the server: settings, metrics, the record store, model health."""

from __future__ import annotations

from dataclasses import dataclass, field

from models.health import HealthRegistry
from realtime.config import Settings
from realtime.metrics import ServerMetrics
from realtime.store import SessionStore


@dataclass
class ServerContext:
    settings: Settings
    metrics: ServerMetrics
    store: SessionStore
    health: HealthRegistry = field(default_factory=HealthRegistry)

    def exercises(self) -> list[str]:
        """Exercises the analysis knows (empty until the coaching package provides them)."""
        try:
            from coaching.exercises import EXERCISES
        except ImportError:
            return []
        return sorted(EXERCISES)
