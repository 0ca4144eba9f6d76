"""How many analysed frames a second the vision worker can give, from what frames have cost lately.

Every session's frames go through the one vision worker (`ModelHub.vision_pool`), so what a new
session would get is the worker's capacity shared among one more. The capacity is measured, not
configured: frames analysed over the wall time the worker spent on them in the last `window_s`,
which includes the time the voice loop and the media took the cores away from it.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

FRAME_RATE_CAP = 30.0  # cameras send at most this many frames a second; more capacity buys nothing


class AnalysisLoad:
    """Thread-safe: the vision worker records, admission reads."""

    def __init__(self, window_s: float = 10.0, min_frames: int = 30,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.window_s = window_s
        self.min_frames = min_frames
        self._clock = clock
        self._frames: deque[tuple[float, float]] = deque()  # (when, seconds it took)
        self._lock = threading.Lock()

    def record(self, seconds: float) -> None:
        """One frame analysed in `seconds` of the worker's wall time."""
        with self._lock:
            now = self._clock()
            self._frames.append((now, seconds))
            self._expire(now)

    def fps_per_session(self, sessions: int) -> float | None:
        """Analysed frames a second each of `sessions` would get; None until enough frames were
        measured recently to say (an idle server admits)."""
        with self._lock:
            self._expire(self._clock())
            if len(self._frames) < self.min_frames:
                return None
            busy = sum(seconds for _, seconds in self._frames)
            capacity = len(self._frames) / busy if busy > 0 else float("inf")
        return min(FRAME_RATE_CAP, capacity / max(1, sessions))

    def _expire(self, now: float) -> None:
        while self._frames and self._frames[0][0] < now - self.window_s:
            self._frames.popleft()
