"""The CPU policy between the voice loop and analysis, per session: one person's question pauses
their own analysis and only slows everyone else's (fakes, about a second)."""

from __future__ import annotations

import asyncio
import time
from types import SimpleNamespace

import pytest

from realtime import vision_loop
from realtime.vision_loop import VisionLoop


def loop_of(answering: bool, hub: SimpleNamespace, set_under_way: bool = True) -> VisionLoop:
    loop = object.__new__(VisionLoop)  # only the policy's inputs: no models, no frames
    loop.session = SimpleNamespace(conversation=SimpleNamespace(answering=answering))
    loop.hub = hub
    stats = SimpleNamespace(reps_in_set=1 if set_under_way else 0, hold_s=0.0)
    loop.analyzer = SimpleNamespace(coach=SimpleNamespace(stats=stats))
    return loop


async def waited(loop: VisionLoop, last_frame_ago: float = 0.0) -> float:
    started = time.monotonic()
    await loop.wait_for_cpu(started - last_frame_ago)
    return time.monotonic() - started


async def test_own_answer_pauses_analysis_until_it_sounds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(vision_loop, "MAX_PAUSE_FOR_VOICE_S", 2.0)
    hub = SimpleNamespace(voice_answering=1, voice_listening=0)
    own = loop_of(answering=True, hub=hub)

    async def first_reply_sound() -> None:
        await asyncio.sleep(0.3)
        own.session.conversation.answering = False
        hub.voice_answering = 0

    sound = asyncio.ensure_future(first_reply_sound())
    assert 0.28 <= await waited(own, last_frame_ago=1.0) < 0.5
    await sound


async def test_another_sessions_answer_only_slows_this_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(vision_loop, "MAX_PAUSE_FOR_VOICE_S", 2.0)
    hub = SimpleNamespace(voice_answering=1, voice_listening=1)
    other = loop_of(answering=False, hub=hub)
    assert await waited(other) == pytest.approx(1 / vision_loop.OTHERS_ANSWERING_FPS, abs=0.05)
    assert await waited(other, last_frame_ago=1.0) < 0.02  # a frame is already due


async def test_someone_speaking_throttles_analysis() -> None:
    hub = SimpleNamespace(voice_answering=0, voice_listening=1)
    assert await waited(loop_of(answering=False, hub=hub)) == pytest.approx(1 / vision_loop.LISTENING_FPS, abs=0.05)
    idle = loop_of(answering=False, hub=hub, set_under_way=False)
    assert await waited(idle) == pytest.approx(1 / vision_loop.IDLE_LISTENING_FPS, abs=0.05)


async def test_nobody_talking_means_no_wait() -> None:
    assert await waited(loop_of(answering=False, hub=SimpleNamespace(voice_answering=0, voice_listening=0))) < 0.02
