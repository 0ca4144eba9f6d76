"""Prometheus metrics: what `GET /metrics` exports.

One registry per server instance (not the global default), so several servers in one test process
do not collide and a test can read exact values.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import CounterMetricFamily
from prometheus_client.registry import Collector

# Latency buckets in seconds: fine below 100 ms where real-time stages live, coarse above.
_LATENCY_BUCKETS = (0.005, 0.01, 0.02, 0.03, 0.04, 0.05, 0.06, 0.08, 0.1, 0.15, 0.2, 0.3, 0.5, 0.75, 1.0,
                    1.5, 2.0, 3.0, 5.0, 10.0)


class ServerMetrics:
    """All counters, gauges and histograms of one server."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.sessions_active = Gauge("coach_sessions_active", "Sessions open now", ["transport"], registry=r)
        self.sessions_total = Counter("coach_sessions_total", "Sessions opened", ["transport"], registry=r)
        self.sessions_rejected = Counter(
            "coach_sessions_rejected_total", "Sessions refused", ["reason"], registry=r
        )
        self.frames_received = Counter("coach_video_frames_received_total", "Video frames received", registry=r)
        self.frames_processed = Counter(
            "coach_video_frames_processed_total", "Video frames analysed", registry=r
        )
        self.frames_dropped = Counter(
            "coach_video_frames_dropped_total", "Video frames replaced by a newer one before analysis",
            registry=r,
        )
        self.audio_seconds = Counter(
            "coach_audio_received_seconds_total", "Seconds of microphone audio received", registry=r
        )
        self.reply_audio_seconds = Counter(
            "coach_reply_audio_sent_seconds_total", "Seconds of reply speech sent", registry=r
        )
        self.messages_in = Counter("coach_messages_received_total", "Client messages", ["type"], registry=r)
        self.message_errors = Counter(
            "coach_message_errors_total", "Client messages refused", ["code"], registry=r
        )
        self.stage_latency = Histogram(
            "coach_stage_latency_seconds",
            "Latency of each pipeline stage (pose, analysis, frame_to_overlay, asr, llm_first_token, "
            "tts_first_audio, voice_to_voice ...)",
            ["stage"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.client_voice_to_voice = Histogram(
            "coach_voice_to_voice_client_seconds",
            "End of the person's speech to the first audible reply sample, as clients measure and report it "
            "(the browser demo does)",
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.speculative_turns = Counter(
            "coach_speculative_turns_total",
            "Turns answered from the first silence: confirmed as ended, or abandoned because the person "
            "went on speaking (work spent for nothing)",
            ["outcome"],
            registry=r,
        )
        self.final_transcripts = Counter(
            "coach_final_transcripts_total",
            "Final transcripts of spoken turns: the partial made when the person paused (it heard every "
            "word, so Whisper does not run again), or the whole turn transcribed at its end",
            ["source"],
            registry=r,
        )
        self.answers = Counter(
            "coach_answers_total",
            "Answers by source: the measured facts (no LLM), the LLM, or 'one moment' while it loads",
            ["source"],
            registry=r,
        )
        self.pause_judgements = Counter(
            "coach_pause_judgements_total",
            "Pauses judged by Smart Turn and the words heard: the turn ended there (end), or waited a "
            "little (wait: the words sound finished, the sound not) or until the silence cap (wait_cap), or "
            "the pause was settled before the judgement came (overtaken: the person went on, or the silence "
            "cap ended the turn first; the judges' latency shows here)",
            ["verdict"],
            registry=r,
        )
        self.requests_refused = Counter(
            "coach_requests_refused_total",
            "API requests refused before any work: a page from an origin not allowed, over the client's "
            "rate, or without a valid token",
            ["reason"],
            registry=r,
        )
        self.model_errors = Counter("coach_model_errors_total", "Model calls that raised", ["family"], registry=r)

    def count_from(self, name: str, documentation: str, read: Callable[[], float]) -> None:
        """Export a counter another part keeps itself (read at each scrape), e.g. the records a store
        dropped: that part needs no handle on the metrics."""
        self.registry.register(_ReadCounter(name, documentation, read))


class _ReadCounter(Collector):
    def __init__(self, name: str, documentation: str, read: Callable[[], float]) -> None:
        self.name, self.documentation, self.read = name, documentation, read

    def collect(self) -> Iterator[CounterMetricFamily]:
        yield CounterMetricFamily(self.name, self.documentation, value=self.read())
