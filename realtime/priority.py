"""Thread priorities: on 2 cores, the voice loop's work goes first when the cores are short.

Pausing and throttling analysis (realtime/cpu_share.py) keeps whole frames out of the way of a
reply, but a frame already running, and analysis at its listening rate, still share the cores with
Whisper and the LLM at equal weight. A higher niceness for the vision threads lets the scheduler
settle every such overlap in the voice loop's favour, while analysis still takes every cycle left
idle. Linux sets niceness per thread; elsewhere it would apply to the whole process, so this
does nothing there.
"""

from __future__ import annotations

import logging
import os
import sys
import threading

log = logging.getLogger(__name__)


def lower_thread_priority(nice: int) -> None:
    """Raise the calling thread's niceness by `nice` (threads it creates later inherit it)."""
    if nice <= 0 or not sys.platform.startswith("linux"):
        return
    tid = threading.get_native_id()
    try:
        os.setpriority(os.PRIO_PROCESS, tid, os.getpriority(os.PRIO_PROCESS, tid) + nice)
    except OSError as exc:  # e.g. a seccomp profile that forbids it: priorities are an optimisation
        log.warning("could not lower the priority of thread %s: %s", threading.current_thread().name, exc)
