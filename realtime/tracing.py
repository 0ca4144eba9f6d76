"""OpenTelemetry traces of each voice turn, sent over OTLP/HTTP when `COACH_OTLP_ENDPOINT` is set.

One span per answered turn, from the end of the person's speech (or the text's arrival) to the first
reply sample handed to the wire, with an event at each stage the turn timer stamped
(`realtime/voice/turn_timer.py`: final transcript, retrieval, first LLM token, first sentence, first
synthesised audio, first reply frame) and each stage's milliseconds as an attribute, so an operator
finds the slow turns and the stage that made them slow in Jaeger, Tempo or any OTLP backend.
The exporter batches in its own thread: a collector that is away costs spans, never the voice loop.
"""

from __future__ import annotations

import logging
import socket
import time
from typing import Protocol

log = logging.getLogger(__name__)


class TurnTracer(Protocol):
    """Where finished turns' timings go."""

    def turn(self, session_id: str, turn: int, origin_wall_s: float, stages_ms: dict[str, float]) -> None:
        """One turn: `origin_wall_s` is the end of speech as a Unix time; stages are ms after it."""

    def close(self) -> None:
        """Send what is still buffered."""


class NoTracing:
    """No endpoint configured: turns are measured in /metrics and the records only."""

    def turn(self, session_id: str, turn: int, origin_wall_s: float, stages_ms: dict[str, float]) -> None:
        return None

    def close(self) -> None:
        return None


class OtlpTurnTracer:
    """Spans to an OTLP/HTTP collector (e.g. http://collector:4318/v1/traces)."""

    def __init__(self, endpoint: str, replica: str = "") -> None:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor

        resource = Resource.create({"service.name": "coach-server",
                                    "service.instance.id": replica or socket.gethostname()})
        self._provider = TracerProvider(resource=resource)
        self._provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint, timeout=5)))
        self._tracer = self._provider.get_tracer("coach.voice")

    def turn(self, session_id: str, turn: int, origin_wall_s: float, stages_ms: dict[str, float]) -> None:
        origin_ns = int(origin_wall_s * 1e9)
        stages = sorted(stages_ms.items(), key=lambda item: item[1])
        # A speculative turn's work can start before the end of speech is confirmed: negative stages.
        start_ns = origin_ns + int(min([0.0, *stages_ms.values()]) * 1e6)
        end_ms = stages_ms.get("first_reply_frame", max([0.0, *stages_ms.values()]))
        attributes: dict[str, str | int | float] = {"coach.session_id": session_id, "coach.turn": turn}
        attributes.update({f"coach.{stage}_ms": ms for stage, ms in stages})
        span = self._tracer.start_span("voice turn", start_time=start_ns, attributes=attributes)
        span.add_event("end_of_speech", timestamp=origin_ns)
        for stage, ms in stages:
            span.add_event(stage, timestamp=origin_ns + int(ms * 1e6))
        span.end(end_time=origin_ns + int(end_ms * 1e6))

    def close(self) -> None:
        self._provider.shutdown()


def open_tracer(endpoint: str | None, replica: str = "") -> TurnTracer:
    """The tracer the settings ask for; tracing off when the OpenTelemetry SDK is not installed."""
    if not endpoint:
        return NoTracing()
    try:
        return OtlpTurnTracer(endpoint, replica)
    except ImportError as exc:
        log.error("COACH_OTLP_ENDPOINT is set but the OpenTelemetry SDK is missing (%s): no traces", exc)
        return NoTracing()


def wall_time_of(monotonic_s: float) -> float:
    """A `time.monotonic()` reading as a Unix time (spans are stamped in wall-clock time)."""
    return time.time() - (time.monotonic() - monotonic_s)
