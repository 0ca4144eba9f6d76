"""Vision threads yield the cores to the voice loop: niceness is per thread and inherited."""

from __future__ import annotations

import os
import sys
import threading

import pytest

from realtime.priority import lower_thread_priority

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread niceness is Linux's")


def nice_of_thread_running(target) -> tuple[int, int]:  # noqa: ANN001
    """(niceness of a new thread after `target` ran in it, niceness of a thread it then started)."""
    seen: list[int] = []

    def child() -> None:
        seen.append(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))

    def run() -> None:
        target()
        seen.append(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))
        started = threading.Thread(target=child)
        started.start()
        started.join()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    return seen[0], seen[1]


def test_only_the_calling_thread_and_its_children_are_lowered() -> None:
    base = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    assert nice_of_thread_running(lambda: lower_thread_priority(5)) == (min(base + 5, 19), min(base + 5, 19))
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == base
    assert nice_of_thread_running(lambda: lower_thread_priority(0)) == (base, base)


def test_the_hub_runs_vision_on_lowered_threads() -> None:
    from models.health import HealthRegistry
    from realtime.config import load_settings
    from realtime.model_hub import ModelHub

    base = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    hub = ModelHub(load_settings(None, load_models=False, vision_nice=7), HealthRegistry())
    try:
        nice = hub.vision_pool.submit(lambda: os.getpriority(os.PRIO_PROCESS, threading.get_native_id())).result()
        assert nice == min(base + 7, 19)
        assert hub.asr_pool.submit(lambda: os.getpriority(os.PRIO_PROCESS, threading.get_native_id())).result() == base
    finally:
        hub.close()


def test_the_hub_analyses_two_sessions_frames_at_once() -> None:
    """Two vision workers (the default): two frames wait for each other at a barrier and both pass,
    each on a lowered thread; with one worker the second would wait for the first."""
    from models.health import HealthRegistry
    from realtime.config import load_settings
    from realtime.model_hub import ModelHub

    base = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    hub = ModelHub(load_settings(None, load_models=False, vision_nice=7), HealthRegistry())
    barrier = threading.Barrier(2, timeout=5)

    def frame() -> int:
        barrier.wait()
        return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    try:
        frames = [hub.vision_pool.submit(frame) for _ in range(2)]
        assert [f.result(timeout=10) for f in frames] == [min(base + 7, 19)] * 2
    finally:
        hub.close()
