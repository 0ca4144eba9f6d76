"""The CPU policy between the voice loop and analysis (realtime/cpu_share.py): one person's question
pauses their own analysis and only slows everyone else's; closing gives the cores back (fast tier,
about a second)."""

from __future__ import annotations

import asyncio
import time

import pytest

from realtime.cpu_share import CpuShare, CpuShareOptions


async def waited(share: CpuShare, own_answering: bool = False, set_under_way: bool = True,
                 last_frame_ago: float = 0.0, answering: object = None) -> float:
    started = time.monotonic()
    own = answering if callable(answering) else (lambda: own_answering)
    await share.before_frame(own, lambda: set_under_way, started - last_frame_ago)
    return time.monotonic() - started


async def test_own_answer_pauses_analysis_until_it_sounds() -> None:
    share = CpuShare(CpuShareOptions(max_pause_s=2.0))
    own = share.claim()
    own.set_answering(True)

    async def first_reply_sound() -> None:
        await asyncio.sleep(0.3)
        own.set_answering(False)

    sound = asyncio.ensure_future(first_reply_sound())
    assert 0.28 <= await waited(share, answering=lambda: own.answering, last_frame_ago=1.0) < 0.5
    await sound


async def test_a_stuck_answer_pauses_analysis_at_most_max_pause() -> None:
    share = CpuShare(CpuShareOptions(max_pause_s=0.3))
    share.claim().set_answering(True)
    assert 0.28 <= await waited(share, own_answering=True, last_frame_ago=1.0) < 0.5


async def test_another_sessions_answer_only_slows_this_one() -> None:
    share = CpuShare()
    other = share.claim()
    other.set_listening(True)
    other.set_answering(True)
    assert await waited(share) == pytest.approx(1 / share.options.others_answering_fps, abs=0.05)
    assert await waited(share, last_frame_ago=1.0) < 0.02  # a frame is already due


async def test_someone_speaking_throttles_analysis() -> None:
    share = CpuShare()
    share.claim().set_listening(True)
    assert await waited(share) == pytest.approx(1 / share.options.listening_fps, abs=0.05)
    assert await waited(share, set_under_way=False) == pytest.approx(1 / share.options.idle_listening_fps, abs=0.05)


async def test_nobody_talking_means_no_wait() -> None:
    assert await waited(CpuShare()) < 0.02


def test_claims_count_once_and_a_released_claim_takes_nothing_again() -> None:
    share = CpuShare()
    a, b = share.claim(), share.claim()
    a.set_listening(True)
    a.set_listening(True)
    b.set_answering(True)
    assert (share.listening, share.answering) == (1, 1)
    assert share.core_spare(transcribing=False) and not share.core_spare(transcribing=True)
    a.release()
    b.release()
    a.set_listening(True)  # audio arriving during teardown
    b.set_answering(True)
    assert (share.listening, share.answering) == (0, 0)
    assert not share.core_spare(transcribing=False)


def test_a_conversation_is_alone_until_another_claims_the_cores() -> None:
    share = CpuShare()
    a = share.claim()
    assert a.alone
    b = share.claim()
    assert not a.alone and not b.alone
    b.release()
    b.release()  # a second close takes nothing more
    assert a.alone and share.conversations == 1
    a.release()
    assert not a.alone and share.conversations == 0
