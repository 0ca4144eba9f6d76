"""What every session shares with the server: settings, metrics, the record store, turn traces, model health."""

from __future__ import annotations

from dataclasses import dataclass, field

from coaching.exercises import EXERCISES
from models.health import HealthRegistry
from realtime.config import Settings
from realtime.metrics import ServerMetrics
from realtime.model_hub import ModelHub
from realtime.records import RecordStore
from realtime.tracing import NoTracing, TurnTracer


@dataclass
class ServerContext:
    settings: Settings
    metrics: ServerMetrics
    store: RecordStore
    hub: ModelHub | None = None
    tracer: TurnTracer = field(default_factory=NoTracing)

    def __post_init__(self) -> None:
        if self.hub is None:
            self.hub = ModelHub(self.settings, HealthRegistry())

    @property
    def health(self) -> HealthRegistry:
        return self.hub.health

    def model_states(self) -> dict[str, str]:
        """family -> ready / loading / unavailable, as clients are shown it."""
        return {family: status.state.value for family, status in self.health.snapshot().items()}

    def exercises(self) -> list[str]:
        """Exercises the analysis knows."""
        return sorted(EXERCISES)
