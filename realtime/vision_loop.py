"""Frames of one session through pose, subject tracking and exercise analysis, off the event loop.

The loop takes the newest frame from the session's latest-frame slot and works on it in two stages
on the vision worker pool: decode + pose (`FrameAnalyzer.detect`, which holds no session state),
then tracking + the refiner + analysis (`process_detected`), strictly in frame order. The next
frame's first stage starts while this one's second is still running, so one session's frames keep
both cores busy: on the 2-core VM one 640x480 stream went from ~22 to ~28 analysed fps
(benchmarks/vision.py), each frame's overlay about one pose run later. Whatever arrived meanwhile
replaced older frames in the slot (counted as dropped), so when the CPU is busy the analysed frame
rate falls instead of a backlog building up, and latency stays flat.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import av
import numpy as np

from coaching.events import Event
from coaching.tracking import PersonLike
from realtime.analysis import FrameAnalyzer, FrameResult
from realtime.media.frame_slot import Stamped
from realtime.protocol import CoachEvent, ErrorMessage, PoseOverlay, Status
from realtime.scene import SceneReader
from realtime.session_ports import VisionHost

log = logging.getLogger(__name__)

# Analysis events kept in the session record, under these kinds (see store.py's grouping).
_RECORDED = {"rep_completed": "rep", "set_completed": "set", "fault_detected": "fault",
             "exercise_changed": "exercise"}
_ERROR_REPORT_EVERY_S = 5.0


@dataclass
class _Detected:
    """A frame after the first stage: its image, the people found, and what that took."""

    image: np.ndarray
    people: Sequence[PersonLike]
    stages: dict[str, float]
    seconds: float


class VisionLoop:
    """Per-session analysis state (tracker, coach) and the task that feeds it frames."""

    def __init__(self, session: VisionHost) -> None:
        self.session = session
        self.hub = session.ctx.hub
        self.analyzer = FrameAnalyzer(self.hub.pose, session.prefs.exercise, self.hub.action,
                                      refiner=getattr(self.hub.pose, "refiner", None))
        # The full profile's slower readings of the same frames (3D lifting, clip model, captions).
        self.scene = SceneReader(self.hub) if self.hub.scene_expected else None
        self._lock = threading.Lock()  # coach state: written by the vision thread, read by the responder
        self._pending_choice: str | None = None
        self._t0 = time.monotonic()
        self._last_error = 0.0
        self._told_unavailable = False

    def choose_exercise(self, name: str) -> None:
        """The person picked an exercise; applied before the next frame is analysed."""
        self._pending_choice = name

    def measured(self) -> tuple[list[str], str | None, list[str]]:
        """Fact lines, current exercise and active faults for the responder (any thread)."""
        with self._lock:
            coach = self.analyzer.coach
            facts = coach.facts()
            lines = coach.summary_lines()
        if self.scene is not None:
            lines += self.scene.fact_lines()
        return lines, facts["exercise"], list(facts["faults_this_set"])

    def fact_sheet(self) -> dict[str, Any]:
        """Everything measured, as `SessionStats.facts()` (any thread)."""
        with self._lock:
            return self.analyzer.coach.facts()

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        last_frame = 0.0
        if self.scene is not None:
            self.session.spawn(self.scene.run(), "scene")
        analysing: asyncio.Task[None] | None = None  # the previous frame's second stage
        self.hub.vision_streams += 1
        try:
            while True:
                # Two frames at once only while the workers have room for every session's two: with
                # more sessions, one's next frame would queue behind another's and only add latency.
                # One at a time, the next frame is taken when this one is done, as fresh as it can be.
                if analysing is not None and 2 * self.hub.vision_streams > self.hub.settings.vision_workers:
                    await analysing
                if (stamped := await self.session.frames.get()) is None:
                    break
                # Voice first on a small CPU (realtime/cpu_share.py): this session's answer pauses its
                # analysis, anyone else's talking slows it.
                await self.hub.cpu.before_frame(lambda: self.session.conversation.answering, self._set_under_way,
                                                last_frame)
                last_frame = time.monotonic()
                if self.hub.pose is None:
                    self._tell_unavailable()
                    await asyncio.sleep(0.2)  # frames keep arriving into the slot; only the newest waits
                    continue
                detecting = loop.run_in_executor(self.hub.vision_pool, self._detect, stamped)
                if analysing is not None:
                    await analysing  # frames are tracked and coached in the order they came
                analysing = asyncio.create_task(self._analyse(detecting, stamped))
            if analysing is not None:
                await analysing
        finally:
            self.hub.vision_streams -= 1
            if analysing is not None and not analysing.done():
                analysing.cancel()

    async def _analyse(self, detecting: asyncio.Future[_Detected], stamped: Stamped[av.VideoFrame]) -> None:
        """A frame's second stage once its first is done, and what it produced sent to the client."""
        metrics = self.session.ctx.metrics
        try:
            detected = await detecting
            result = await asyncio.get_running_loop().run_in_executor(self.hub.vision_pool, self._track_and_coach,
                                                                      detected, stamped)
        except Exception as exc:  # a model that throws on a frame: reported, the loop goes on
            metrics.model_errors.labels("pose").inc()
            if time.monotonic() - self._last_error > _ERROR_REPORT_EVERY_S:
                self._last_error = time.monotonic()
                log.exception("session %s: frame analysis failed", self.session.id)
                self.session.send(ErrorMessage(code="pose_failed", message=f"frame analysis failed: {exc}"))
            return
        metrics.frames_processed.inc()
        self.session.frames_analysed += 1
        for stage, seconds in result.stages.items():
            metrics.stage_latency.labels(stage).observe(seconds)
        latency = time.monotonic() - stamped.arrived
        metrics.stage_latency.labels("frame_to_overlay").observe(latency)
        self.session.send(PoseOverlay(frame=stamped.seq, width=result.width, height=result.height,
                                      keypoints=result.overlay_keypoints(), subject=result.subject,
                                      people=result.people, latency_ms=round(latency * 1000, 1)))
        for event in result.events:
            self._publish(event)

    def _set_under_way(self) -> bool:
        stats = self.analyzer.coach.stats
        return stats.reps_in_set > 0 or stats.hold_s > 0

    def _tell_unavailable(self) -> None:
        if self._told_unavailable:
            return
        self._told_unavailable = True
        status = self.session.ctx.health.get("pose")
        state = status.state.value if status else "not loaded"
        reason = f": {status.reason}" if status and status.reason else ""
        self.session.send(Status(state="pose", message=f"pose model {state}{reason}"))

    def _detect(self, stamped: Stamped[av.VideoFrame]) -> _Detected:
        """First stage (any vision worker, beside the previous frame's second): decode and pose."""
        t_start = time.perf_counter()
        image = stamped.item.to_ndarray(format="bgr24")
        t_decoded = time.perf_counter()
        if self.analyzer.pose is not self.hub.pose:  # the session started before pose finished loading
            self.analyzer.pose = self.hub.pose
            self.analyzer.refiner = getattr(self.hub.pose, "refiner", None)
        people = self.analyzer.detect(image)
        t_end = time.perf_counter()
        return _Detected(image, people, {"decode": t_decoded - t_start, "pose": t_end - t_decoded}, t_end - t_start)

    def _track_and_coach(self, detected: _Detected, stamped: Stamped[av.VideoFrame]) -> FrameResult:
        """Second stage (one frame at a time, in order): tracking, refiner and analysis."""
        t_start = time.perf_counter()
        t = stamped.arrived - self._t0
        with self._lock:
            choice_events: list[Event] = []
            if (choice := self._pending_choice) is not None:
                self._pending_choice = None
                choice_events = self.analyzer.choose(choice, t)
            result = self.analyzer.process_detected(detected.image, detected.people, t)
        result.events[:0] = choice_events
        if self.scene is not None:
            self.scene.offer(detected.image, result.keypoints, result.subject, t)
        result.stages = {**detected.stages, **result.stages}
        self.hub.analysis_load.record(detected.seconds + time.perf_counter() - t_start)
        return result

    def _publish(self, event: Event) -> None:
        session = self.session
        session.send(CoachEvent(event=event))
        payload: dict[str, Any] = event.model_dump(mode="json")
        if (kind := _RECORDED.get(event.type)) is not None:
            session.ctx.store.record(session.id, kind, payload)
        session.conversation.on_coach_event(payload)
        if event.type == "rep_completed":
            session.conversation.refresh_context()
        if event.type == "set_completed":
            session.spawn(session.conversation.summarise_set(event.reps, event.hold_s), "set-summary")

    def finish(self) -> None:
        """Close the set in progress so the record has it (session ending)."""
        with self._lock:
            events = self.analyzer.finish(time.monotonic() - self._t0)
        for event in events:
            if (kind := _RECORDED.get(event.type)) is not None:
                self.session.ctx.store.record(self.session.id, kind, event.model_dump(mode="json"))

