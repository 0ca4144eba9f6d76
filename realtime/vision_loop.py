"""Frames of one session through pose, subject tracking and exercise analysis, off the event loop.

The loop takes the newest frame from the session's latest-frame slot, runs decode + pose + tracking
+ analysis on the vision worker pool, and sends the overlay and events when it is done. Whatever
arrived meanwhile replaced older frames in the slot (counted as dropped), so when the CPU is busy
the analysed frame rate falls instead of a backlog building up, and latency stays flat.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from typing import Any

import av

from coaching.events import Event
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
        metrics = self.session.ctx.metrics
        last_frame = 0.0
        if self.scene is not None:
            self.session.spawn(self.scene.run(), "scene")
        while (stamped := await self.session.frames.get()) is not None:
            # Voice first on a small CPU (realtime/cpu_share.py): this session's answer pauses its
            # analysis, anyone else's talking slows it.
            await self.hub.cpu.before_frame(lambda: self.session.conversation.answering, self._set_under_way,
                                            last_frame)
            last_frame = time.monotonic()
            if self.hub.pose is None:
                self._tell_unavailable()
                await asyncio.sleep(0.2)  # frames keep arriving into the slot; only the newest waits
                continue
            try:
                result = await loop.run_in_executor(self.hub.vision_pool, self._process, stamped)
            except Exception as exc:  # a model that throws on a frame: reported, the loop goes on
                metrics.model_errors.labels("pose").inc()
                if time.monotonic() - self._last_error > _ERROR_REPORT_EVERY_S:
                    self._last_error = time.monotonic()
                    log.exception("session %s: frame analysis failed", self.session.id)
                    self.session.send(ErrorMessage(code="pose_failed", message=f"frame analysis failed: {exc}"))
                continue
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

    def _process(self, stamped: Stamped[av.VideoFrame]) -> FrameResult:
        """Decode, pose, track, analyse one frame (on the vision worker thread)."""
        t_start = time.perf_counter()
        image = stamped.item.to_ndarray(format="bgr24")
        decode = time.perf_counter() - t_start
        if self.analyzer.pose is not self.hub.pose:  # the session started before pose finished loading
            self.analyzer.pose = self.hub.pose
            self.analyzer.refiner = getattr(self.hub.pose, "refiner", None)
        t = stamped.arrived - self._t0
        with self._lock:
            choice_events: list[Event] = []
            if (choice := self._pending_choice) is not None:
                self._pending_choice = None
                choice_events = self.analyzer.choose(choice, t)
            result = self.analyzer.process_image(image, t)
        result.events[:0] = choice_events
        if self.scene is not None:
            self.scene.offer(image, result.keypoints, result.subject, t)
        result.stages["decode"] = decode
        self.hub.analysis_load.record(time.perf_counter() - t_start)
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

