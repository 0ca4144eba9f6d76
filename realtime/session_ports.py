"""What a session's two loops may use of the session: narrow ports, not the whole Session.

`Session` (realtime/session.py) owns a `VisionLoop` (camera frames → coaching events) and a
`Conversation` (speech and text → replies). Each loop needs a handful of the session's
things: where to send a message, how to start a task the session owns, the server's shared
context. They get exactly that, typed here, so neither imports the session (no import circle)
and a test can hand either one a small fake host.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any, Protocol

import av

from realtime.channels import ClientChannel
from realtime.context import ServerContext
from realtime.media.echo import EchoCanceller
from realtime.media.frame_slot import LatestFrameSlot
from realtime.media.reply_track import ReplyAudioTrack
from realtime.protocol import CueVerbosity


@dataclass
class Preferences:
    """What the person chose for this session."""

    voice: bool = True
    cue_verbosity: CueVerbosity = "normal"
    exercise: str = "auto"


class SessionHost(Protocol):
    """What both loops use: the session's id and preferences, the server's shared context,
    messages to the client and tasks the session owns (cancelled when it closes)."""

    id: str
    ctx: ServerContext
    prefs: Preferences

    def send(self, message: object) -> None: ...

    def spawn(self, coro: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any] | None: ...


class ConversationHost(SessionHost, Protocol):
    """What the conversation also uses: the reply's ways out (WebRTC track, websocket audio),
    the echo canceller to feed, and what the camera measured."""

    channel: ClientChannel
    reply_track: ReplyAudioTrack | None
    echo: EchoCanceller | None

    def measured_facts(self) -> tuple[list[str], str | None, list[str]]: ...

    def fact_sheet(self) -> dict[str, Any]: ...


class CoachEventListener(Protocol):
    """What the vision loop tells the conversation (and asks it): coaching events for spoken
    cues and the LLM's context, set summaries, and whether it is answering (the CPU policy)."""

    @property
    def answering(self) -> bool: ...

    def on_coach_event(self, event: dict[str, Any]) -> None: ...

    def refresh_context(self) -> None: ...

    async def summarise_set(self, reps: int, hold_s: float | None) -> None: ...


class VisionHost(SessionHost, Protocol):
    """What the vision loop also uses: the newest camera frame, the count of frames analysed
    (for admission by load) and the conversation to tell about events."""

    frames: LatestFrameSlot[av.VideoFrame]
    frames_analysed: int
    conversation: CoachEventListener
