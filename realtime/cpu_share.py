"""How the two cores are shared between every session's analysis and voice: decided here, once.

On 2 cores a reply's latency matters more than a few analysed frames, so voice has priority:

  * while a session's conversation is answering (end of the person's speech to the first reply
    sound), that session's analysis pauses, at most `max_pause_s`;
  * while another session's is answering, analysis runs at most at `others_answering_fps`: one
    person's question slows everyone else's analysis, never stops it;
  * while anyone is speaking, analysis runs at most at `listening_fps`, or `idle_listening_fps`
    when no set is under way (people mostly ask between sets; a first rep is still seen at that
    rate, and once it is counted the set is under way);
  * the LLM may read ahead with both cores only while analysis is held back like this and Whisper
    is not running (`core_spare`);
  * a session's new facts (after each rep) are read into the LLM's cache ahead of a question only
    while its conversation is the only one (`VoiceClaim.alone`): the one KV cache holds one
    session's prompt, so with several sessions each such read evicts another's and is evicted in
    turn, and those reads took most of a core from analysis (`benchmarks/load.py`, docs/DEPLOYMENT.md).

Each conversation holds a `VoiceClaim` (listening / answering, released on close); each vision
loop asks `before_frame` before it analyses a frame.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from pydantic import BaseModel, Field


class CpuShareOptions(BaseModel):
    """The policy's numbers (see the module docstring); `cpu` in the server settings."""

    max_pause_s: float = Field(3.0, ge=0, description="Longest pause of a session's analysis for its own answer.")
    others_answering_fps: float = Field(3.0, gt=0, description="Analysis rate cap while another session answers.")
    listening_fps: float = Field(10.0, gt=0, description="Analysis rate cap while anyone speaks, during a set.")
    idle_listening_fps: float = Field(4.0, gt=0, description="... and between sets.")


class CpuShare:
    """The server-wide count of conversations listening and answering, and the policy on them."""

    def __init__(self, options: CpuShareOptions | None = None) -> None:
        self.options = options or CpuShareOptions()
        self.listening = 0
        self.answering = 0
        self.conversations = 0  # claims not released: the sessions whose voice shares the cores

    def claim(self) -> VoiceClaim:
        """One conversation's claim (start: neither listening nor answering)."""
        self.conversations += 1
        return VoiceClaim(self)

    @property
    def voice_active(self) -> bool:
        """Someone, in any session, is speaking or waiting for an answer."""
        return self.listening > 0 or self.answering > 0

    def core_spare(self, transcribing: bool) -> bool:
        """Both cores are the LLM's for now: analysis is held back and Whisper is idle."""
        return self.voice_active and not transcribing

    def frame_interval_s(self, set_under_way: bool) -> float:
        """The least time between two analysed frames of a session that is not answering (0: none)."""
        o = self.options
        if self.answering > 0:
            return 1.0 / o.others_answering_fps
        if self.listening > 0:
            return 1.0 / (o.listening_fps if set_under_way else o.idle_listening_fps)
        return 0.0

    async def before_frame(self, own_answering: Callable[[], bool], set_under_way: Callable[[], bool],
                           last_frame: float) -> None:
        """Wait until this session may analyse its next frame (last_frame: time.monotonic() of the last)."""
        paused = time.monotonic()
        while own_answering() and time.monotonic() - paused < self.options.max_pause_s:
            await asyncio.sleep(0.02)
        interval = self.frame_interval_s(set_under_way())
        wait = last_frame + interval - time.monotonic() if interval > 0 else 0.0
        if wait > 0:
            await asyncio.sleep(wait)


class VoiceClaim:
    """One conversation's share: whether its person is speaking (listening) and whether it is
    answering. Released for good on close: audio still arriving during teardown must not hold
    back the analysis of every other session."""

    def __init__(self, share: CpuShare) -> None:
        self._share = share
        self.listening = False
        self.answering = False
        self._released = False

    @property
    def alone(self) -> bool:
        """This is the only conversation the server holds (see the module docstring)."""
        return not self._released and self._share.conversations == 1

    def set_listening(self, on: bool) -> None:
        if on != self.listening and not (on and self._released):
            self.listening = on
            self._share.listening += 1 if on else -1

    def set_answering(self, on: bool) -> None:
        if on != self.answering and not (on and self._released):
            self.answering = on
            self._share.answering += 1 if on else -1

    def release(self) -> None:
        if not self._released:
            self._share.conversations -= 1
        self._released = True
        self.set_listening(False)
        self.set_answering(False)
