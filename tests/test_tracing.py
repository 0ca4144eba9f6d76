"""Per-turn OpenTelemetry traces, through the real OTLP/HTTP exporter to a collector endpoint
started here that decodes what it receives."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator

import pytest
import websockets
from aiohttp import web
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from realtime.tracing import NoTracing, OtlpTurnTracer, open_tracer
from realtime.server import start_app


class Collector:
    """An OTLP/HTTP trace endpoint that keeps every span it is sent."""

    def __init__(self) -> None:
        self.spans: list[tuple[dict[str, str], Span]] = []
        self.arrived = asyncio.Event()

    async def traces(self, request: web.Request) -> web.Response:
        export = ExportTraceServiceRequest.FromString(await request.read())
        for resource_spans in export.resource_spans:
            resource = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
            for scope_spans in resource_spans.scope_spans:
                self.spans.extend((resource, span) for span in scope_spans.spans)
        self.arrived.set()
        return web.Response(body=b"", content_type="application/x-protobuf")


@pytest.fixture
async def collector() -> AsyncIterator[tuple[Collector, str]]:
    sink = Collector()
    app = web.Application()
    app.router.add_post("/v1/traces", sink.traces)
    runner, port = await start_app(app)
    yield sink, f"http://127.0.0.1:{port}/v1/traces"
    await runner.cleanup()


def attributes(span: Span) -> dict[str, object]:
    values: dict[str, object] = {}
    for a in span.attributes:
        kind = a.value.WhichOneof("value")
        values[a.key] = getattr(a.value, kind)
    return values


async def test_a_turn_becomes_one_span_with_its_stages_as_events(collector: tuple[Collector, str]) -> None:
    sink, url = collector
    tracer = OtlpTurnTracer(url, replica="r2")
    origin = time.time()
    stages = {"final_transcript": 310.0, "llm_first_token": 1020.5, "first_reply_frame": 1550.0,
              "retrieval": -40.0}  # a speculative turn retrieved before the end of speech was confirmed
    tracer.turn("r2-abc", 3, origin, stages)
    await asyncio.to_thread(tracer.close)  # the exporter posts from its thread to this loop's collector
    (resource, span), = sink.spans
    assert resource["service.name"] == "coach-server" and resource["service.instance.id"] == "r2"
    assert span.name == "voice turn"
    values = attributes(span)
    assert values["coach.session_id"] == "r2-abc" and values["coach.turn"] == 3
    assert values["coach.llm_first_token_ms"] == pytest.approx(1020.5)
    events = [(e.name, (e.time_unix_nano - int(origin * 1e9)) / 1e6) for e in span.events]
    assert [name for name, _ in events] == ["end_of_speech", "retrieval", "final_transcript", "llm_first_token",
                                           "first_reply_frame"]
    assert events[3][1] == pytest.approx(1020.5, abs=0.01)
    assert (span.start_time_unix_nano - int(origin * 1e9)) / 1e6 == pytest.approx(-40.0, abs=0.01)
    assert (span.end_time_unix_nano - span.start_time_unix_nano) / 1e6 == pytest.approx(1590.0, abs=0.01)


async def test_a_server_with_an_endpoint_traces_its_answered_turns(start_server, loaded_hub,
                                                                    collector: tuple[Collector, str]) -> None:
    """A typed question answered from the measured facts (no LLM needed) is a traced turn."""
    sink, url = collector
    server = await start_server(hub=loaded_hub, otlp_endpoint=url)
    async with websockets.connect(f"ws://127.0.0.1:{server.port}/ws") as ws:
        session_id = json.loads(await ws.recv())["session_id"]
        await ws.send(json.dumps({"type": "chat", "text": "how many reps did I do?"}))
        async with asyncio.timeout(20):
            while (message := json.loads(await ws.recv()))["type"] != "metrics":
                pass
    await asyncio.to_thread(server.ctx.tracer.close)
    spans = [span for _, span in sink.spans]
    assert len(spans) == 1 and attributes(spans[0])["coach.session_id"] == session_id
    assert attributes(spans[0])["coach.turn"] == message["turn"]


def test_no_endpoint_no_tracing() -> None:
    assert isinstance(open_tracer(None), NoTracing) and isinstance(open_tracer(""), NoTracing)
