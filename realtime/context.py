"""What every session shares with the server: settings, metrics, the record store, model health."""

from __future__ import annotations

from dataclasses import dataclass, field

from coaching.exercises import EXERCISES
from models.health import HealthRegistry
from realtime.config import Settings
from realtime.metrics import ServerMetrics
from realtime.model_hub import ModelHub
from realtime.store import SessionStore


@dataclass
class ServerContext:
    settings: Settings
    metrics: ServerMetrics
    store: SessionStore
    health: HealthRegistry = field(default_factory=HealthRegistry)
    hub: ModelHub = field(init=False)

    def __post_init__(self) -> None:
        self.hub = ModelHub(self.settings, self.health)

    def exercises(self) -> list[str]:
        """Exercises the analysis knows."""
        return sorted(EXERCISES)
