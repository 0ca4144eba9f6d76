"""One reply in flight (an answer, a set summary or a spoken cue), as a handle the conversation
holds while it lasts.

The handle owns everything that must stop together when the person barges in or goes on talking
after a pause: the gate that holds a speculative reply's messages and audio until its turn is
confirmed, the event that stops its LLM and TTS worker threads, its speaker, and its task. `halt`
stops all of them; flushing audio already on the reply track is the caller's (it owns the track).
"""

from __future__ import annotations

import asyncio
import enum
import threading
from dataclasses import dataclass, field
from typing import Literal

from realtime.session_ports import SessionHost
from realtime.voice.gate import Gate
from realtime.voice.speaker import Speaker
from realtime.voice.turn_timer import TurnTimer

ReplyKind = Literal["answer", "cue", "summary"]


class ReplyState(enum.Enum):
    """What the coach's side of the conversation is doing, as the person sees it."""

    IDLE = "idle"  # nothing to say, or a speculative reply the person cannot know of yet
    THINKING = "thinking"  # the person's turn is over: transcript, note, LLM before the first sound
    SPEAKING = "speaking"  # the reply's audio (or, without voice, its text) is on its way


@dataclass
class ActiveReply:
    """A reply in flight: its task, the event that stops its worker threads, and what was said."""

    turn: int
    kind: ReplyKind
    gate: Gate = field(default_factory=Gate)
    stop: threading.Event = field(default_factory=threading.Event)
    task: asyncio.Task[None] | None = None
    speaker: Speaker | None = None
    timer: TurnTimer | None = None  # the person's turn it answers (a cue answers none)
    text: str = ""
    sounding: bool = False  # unspoken (text only): its first text is on its way

    def send(self, host: SessionHost, message: object) -> None:
        """To the client once the turn is confirmed (a speculative reply's messages wait)."""
        self.gate.run(lambda: host.send(message))

    def halt(self) -> None:
        """Stop the reply's LLM and TTS work and its task (unless that is the caller's own)."""
        self.stop.set()
        if self.speaker is not None:
            self.speaker.cancel()
        if self.task is not None and self.task is not asyncio.current_task():
            self.task.cancel()
