"""The set of live sessions: admission, creation per transport, lookup and shutdown."""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web
from aiortc import RTCPeerConnection

from realtime.channels import DataChannelSink, WebSocketSink
from realtime.context import ServerContext
from realtime.media.echo import EchoCanceller
from realtime.media.reply_track import ReplyAudioTrack
from realtime.session import Session, Transport
from realtime.signaling import apply_offer, create_answer, rtc_configuration

log = logging.getLogger(__name__)


class ServerBusy(RuntimeError):
    """The session limit is reached; answered with 503."""


class SessionManager:
    """Creates sessions for each transport and closes them all on shutdown."""

    def __init__(self, ctx: ServerContext) -> None:
        self.ctx = ctx
        self.sessions: dict[str, Session] = {}
        self.pending: dict[str, Session] = {}
        """WebRTC sessions answered whose peer has not connected yet, oldest first."""

    def _active(self) -> int:
        """Sessions that count against max_sessions: not waiting to connect, not closing."""
        return sum(1 for s in self.sessions.values() if s.id not in self.pending and not s.closing)

    def refusal(self, with_video: bool = False) -> tuple[str, str] | None:
        """Why a new session would be refused now, as (reason label, sentence); None when there is room.

        Refused beyond max_sessions (those still waiting to connect do not count) or, for one that
        brings video, when the analysis could not keep every session at `min_analysed_fps` with one
        more. `/ready` asks the same, so a load balancer sends new people where there is room."""
        limits = self.ctx.settings.limits
        if self._active() >= limits.max_sessions:
            return "busy", f"the server is coaching {limits.max_sessions} sessions already (its limit); try again later"
        if not with_video or limits.min_analysed_fps <= 0:
            return None
        watched = sum(1 for s in self.sessions.values() if s.vision is not None and not s.closing)
        if watched and (fps := self.ctx.hub.analysis_load.fps_per_session(watched + 1)) is not None \
                and fps < limits.min_analysed_fps:
            return "load", (f"the server is at capacity: one more session would leave each about {fps:.0f} "
                            f"analysed frames a second (under {limits.min_analysed_fps:g}); try again later")
        return None

    def _admit(self, with_video: bool = False) -> None:
        if (refused := self.refusal(with_video)) is not None:
            reason, message = refused
            self.ctx.metrics.sessions_rejected.labels(reason).inc()
            raise ServerBusy(message)

    async def _make_room_for_pending(self) -> None:
        """At max_pending, close the oldest session still waiting to connect: offers that never
        connect (a broken client, or someone hammering /offer) then cycle out among themselves
        instead of holding slots until their ICE timeout."""
        while len(self.pending) >= self.ctx.settings.limits.max_pending:
            oldest = next(iter(self.pending.values()))
            self.pending.pop(oldest.id, None)
            self.ctx.metrics.sessions_rejected.labels("displaced").inc()
            await oldest.close("not connected before newer offers came")

    def _register(self, session: Session) -> None:
        self.sessions[session.id] = session
        session.when_closed(self._forget)

    def _forget(self, session: Session) -> None:
        self.sessions.pop(session.id, None)
        self.pending.pop(session.id, None)

    async def _connected(self, session: Session) -> None:
        """The peer connected: the session now counts against max_sessions, unless that is full
        (several waiting peers connected at once)."""
        if self.pending.pop(session.id, None) is None:
            return
        if self._active() > self.ctx.settings.limits.max_sessions:
            self.ctx.metrics.sessions_rejected.labels("busy").inc()
            await session.close("the server is coaching its limit of sessions already")

    async def open_webrtc(self, sdp: str, transport: Transport, client: str | None) -> tuple[Session, str]:
        """Answer an offer (from /offer or /whip); returns the session and the answer SDP."""
        self._admit(with_video=True)
        await self._make_room_for_pending()
        media = self.ctx.settings.media
        pc = RTCPeerConnection(rtc_configuration(media))
        sink = DataChannelSink()
        session = Session(self.ctx, transport, sink, client)
        session.pc = pc

        @pc.on("track")
        def on_track(track):  # noqa: ANN001 - aiortc callback
            session.add_track(track)

        @pc.on("datachannel")
        def on_datachannel(channel):  # noqa: ANN001
            sink.attach(channel)
            channel.on("message", lambda raw: session.spawn(session.handle_raw(raw), "message"))
            session.send(session.hello())

        @pc.on("iceconnectionstatechange")
        async def on_ice_state() -> None:
            # A peer that answers ICE checks is real; it stops counting as pending here (before
            # DTLS and the data channel finish), so newer offers cannot displace it meanwhile.
            if pc.iceConnectionState in ("connected", "completed"):
                await self._connected(session)

        @pc.on("connectionstatechange")
        async def on_state() -> None:
            state = pc.connectionState
            log.info("session %s: peer %s", session.id, state)
            if state in ("failed", "closed"):
                await session.close(f"peer {state}")

        try:
            await apply_offer(pc, sdp)
            if any(t.kind == "audio" for t in pc.getTransceivers()):
                if media.echo_cancellation:
                    session.echo = EchoCanceller()
                session.reply_track = ReplyAudioTrack(on_sent=self.ctx.metrics.reply_audio_seconds.inc,
                                                      on_frame=session.echo.played if session.echo else None)
                pc.addTrack(session.reply_track)
            answer = await create_answer(pc, media)
        except BaseException:
            await session.close("offer refused")
            raise
        self._register(session)
        self.pending[session.id] = session
        session.spawn(self._ice_deadline(session, pc), "ice-deadline")
        return session, answer

    async def _ice_deadline(self, session: Session, pc: RTCPeerConnection) -> None:
        await asyncio.sleep(self.ctx.settings.limits.ice_timeout_s)
        if pc.connectionState != "connected":
            await session.close("ICE timeout")

    async def open_websocket(self, ws: web.WebSocketResponse, client: str | None) -> Session:
        self._admit()
        session = Session(self.ctx, "websocket", WebSocketSink(ws), client)
        self._register(session)
        return session

    async def close(self, session_id: str, reason: str) -> bool:
        session = self.sessions.get(session_id)
        if session is None:
            return False
        await session.close(reason)
        return True

    async def close_all(self, reason: str = "server stopping") -> None:
        await asyncio.gather(*(s.close(reason) for s in list(self.sessions.values())))
