"""One coaching session: a peer (or a websocket), its tracks, its tasks, its conversation state.

The session owns everything it starts. `close()` is idempotent and is reached from every exit:
the client hanging up, ICE failing or timing out, the websocket closing, the server stopping. It
cancels every task, closes the peer connection and the frame slot, and writes the end record, so
nothing outlives the session.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable, Coroutine
from typing import Any, Literal

import av
from aiortc import RTCPeerConnection
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from coaching.session_stats import SessionStats
from realtime.channels import ClientChannel
from realtime.context import ServerContext
from realtime.media.audio_in import MicrophoneResampler
from realtime.media.echo import EchoCanceller
from realtime.media.frame_slot import LatestFrameSlot
from realtime.media.reply_track import ReplyAudioTrack
from realtime.protocol import (
    Chat,
    ChooseExercise,
    ClientMessage,
    ErrorMessage,
    Heard,
    Hello,
    Ping,
    Pong,
    ProtocolError,
    Status,
    UpdateSettings,
    parse_client_message,
)
from realtime.session_ports import Preferences
from realtime.vision_loop import VisionLoop
from realtime.voice.conversation import Conversation

log = logging.getLogger(__name__)

Transport = Literal["webrtc", "whip", "websocket"]


class Session:
    """State and tasks of one connected client."""

    def __init__(self, ctx: ServerContext, transport: Transport, channel: ClientChannel,
                 client: str | None = None) -> None:
        replica = ctx.settings.replica
        self.id = f"{replica}-{uuid.uuid4().hex[:16]}" if replica else uuid.uuid4().hex[:16]
        self.ctx = ctx
        self.transport = transport
        self.channel = channel
        self.client = client
        self.created = time.time()
        self.prefs = Preferences()
        self.pc: RTCPeerConnection | None = None
        self.reply_track: ReplyAudioTrack | None = None
        self.echo: EchoCanceller | None = None  # the reply's echo out of the microphone (WebRTC with audio)
        self.frames: LatestFrameSlot[av.VideoFrame] = LatestFrameSlot()
        self.frames_received = 0
        self.frames_analysed = 0
        self.audio_seconds = 0.0
        self.video_size: tuple[int, int] | None = None
        self.closing = False
        self.closed = asyncio.Event()  # set once teardown is complete
        self.end_reason: str | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._close_callbacks: list[Callable[[Session], None]] = []
        self.conversation = Conversation(self)
        self.vision: VisionLoop | None = None
        ctx.store.session_started(self.id, transport, client)
        ctx.metrics.sessions_total.labels(transport).inc()
        ctx.metrics.sessions_active.labels(transport).inc()

    # ------------------------------------------------------------------ tasks

    def spawn(self, coro: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any] | None:
        """Start a task the session owns: cancelled on close, its crash logged, never silent.

        A closing session starts nothing more (a message arriving during teardown is dropped).
        """
        if self.closing:
            coro.close()
            return None
        task = asyncio.get_running_loop().create_task(coro, name=f"{name}:{self.id}")
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and (exc := task.exception()) is not None:
            log.error("session %s: task %s failed", self.id, task.get_name(), exc_info=exc)
            self.send(ErrorMessage(code="internal", message=f"{task.get_name().split(':')[0]} stopped: {exc}"))

    @property
    def task_count(self) -> int:
        return len(self._tasks)

    # ------------------------------------------------------------------ outgoing

    def send(self, message: object) -> None:
        self.channel.send(message)

    def hello(self) -> Hello:
        return Hello(session_id=self.id, exercises=self.ctx.exercises(), models=self.ctx.model_states())

    # ------------------------------------------------------------------ incoming media

    def add_track(self, track: MediaStreamTrack) -> None:
        if track.kind == "video":
            self.spawn(self._receive_video(track), "video-in")
            if self.vision is None:
                self.vision = VisionLoop(self)
                self.spawn(self.vision.run(), "vision")
        elif track.kind == "audio":
            self.spawn(self._receive_audio(track), "audio-in")

    async def _next_frame(self, track: MediaStreamTrack) -> Any:
        """The track's next frame; a silent track for `media_timeout_s` means the client is gone."""
        timeout = self.ctx.settings.limits.media_timeout_s
        try:
            return await asyncio.wait_for(track.recv(), timeout)
        except TimeoutError:
            raise MediaStreamError(f"no {track.kind} for {timeout:g} s") from None

    async def _receive_video(self, track: MediaStreamTrack) -> None:
        metrics = self.ctx.metrics
        try:
            while True:
                frame = await self._next_frame(track)
                self.frames_received += 1
                self.video_size = (frame.width, frame.height)
                metrics.frames_received.inc()
                before = self.frames.dropped
                self.frames.put(frame, time.monotonic())
                if self.frames.dropped != before:
                    metrics.frames_dropped.inc()
        except MediaStreamError as exc:
            await self.close(f"video ended: {exc or 'track closed'}")

    async def _receive_audio(self, track: MediaStreamTrack) -> None:
        resampler = MicrophoneResampler()
        try:
            while True:
                frame = await self._next_frame(track)
                pcm = resampler.convert(frame)
                if self.echo is not None:
                    pcm = self.echo.cleaned(pcm)
                seconds = len(pcm) / 16_000
                self.audio_seconds += seconds
                self.ctx.metrics.audio_seconds.inc(seconds)
                self.conversation.push_audio(pcm)
        except MediaStreamError as exc:
            await self.close(f"audio ended: {exc or 'track closed'}")

    def measured_facts(self) -> tuple[list[str], str | None, list[str]]:
        """What the camera measured, for the responder: fact lines, current exercise, active faults."""
        if self.vision is None:
            return [], None, []
        return self.vision.measured()

    def fact_sheet(self) -> dict[str, Any]:
        """What the camera measured, structured (`SessionStats.facts()`), for answers from the facts."""
        if self.vision is None:
            return SessionStats().facts()
        return self.vision.fact_sheet()

    # ------------------------------------------------------------------ incoming messages

    async def handle_raw(self, raw: str | bytes) -> None:
        """One client message from either transport; errors go back, the session stays up."""
        try:
            message = parse_client_message(raw, self.ctx.settings.limits.max_message_bytes)
        except ProtocolError as exc:
            self.ctx.metrics.message_errors.labels(exc.code).inc()
            self.send(ErrorMessage(code=exc.code, message=str(exc)))
            return
        self.ctx.metrics.messages_in.labels(message.type).inc()
        await self.handle(message)

    async def handle(self, message: ClientMessage) -> None:
        match message:
            case Ping(t=t):
                self.send(Pong(t=t))
            case UpdateSettings():
                if message.voice is not None:
                    self.prefs.voice = message.voice
                if message.cue_verbosity is not None:
                    self.prefs.cue_verbosity = message.cue_verbosity
                self.ctx.store.record(self.id, "settings", {
                    "voice": self.prefs.voice, "cue_verbosity": self.prefs.cue_verbosity})
                self.send(Status(state="settings", message=f"voice {'on' if self.prefs.voice else 'off'}, "
                                 f"cues {self.prefs.cue_verbosity}"))
            case ChooseExercise(exercise=name):
                known = self.ctx.exercises()
                if name != "auto" and name not in known:
                    self.send(ErrorMessage(code="unknown_exercise",
                                           message=f"unknown exercise {name!r}; choose one of {known} or auto"))
                    return
                self.prefs.exercise = name
                self.ctx.store.record(self.id, "exercise", {"exercise": name, "chosen": True})
                if self.vision is not None:
                    self.vision.choose_exercise(name)
                self.send(Status(state="exercise", message=name))
            case Heard(turn=turn, voice_to_voice_ms=ms):
                self.ctx.metrics.client_voice_to_voice.observe(ms / 1000)
                self.ctx.store.record(self.id, "latency_client", {"turn": turn, "voice_to_voice_ms": ms})
            case Chat(text=text, audio=audio):
                # Its own task: the transport keeps reading (pings, a newer question) meanwhile.
                self.spawn(self.conversation.answer_text(text, want_audio=audio), "reply")

    # ------------------------------------------------------------------ teardown

    def when_closed(self, callback: Callable[[Session], None]) -> None:
        self._close_callbacks.append(callback)

    async def close(self, reason: str) -> None:
        if self.closing:
            return
        self.closing = True
        self.end_reason = reason
        log.info("session %s closed: %s (%d frames, %.1f s audio)", self.id, reason,
                 self.frames_received, self.audio_seconds)
        self.frames.close()
        self.conversation.close()
        if self.vision is not None:
            self.vision.finish()
        current = asyncio.current_task()
        tasks = [t for t in self._tasks if t is not current]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self.reply_track is not None:
            self.reply_track.stop()
        if self.pc is not None:
            try:
                await self.pc.close()
            except Exception:  # aiortc cannot always take apart a connection an odd offer half-built
                log.warning("session %s: peer connection did not close cleanly", self.id, exc_info=True)
        await self.channel.close()
        self.ctx.store.session_ended(self.id, reason)
        self.ctx.metrics.sessions_active.labels(self.transport).dec()
        for callback in self._close_callbacks:
            callback(self)
        self.closed.set()
