"""How many analysed frames a second the vision workers can give, from what frames have cost lately.

Every session's frames go through the vision workers (`ModelHub.vision_pool`, each frame on one of
them), so what a new session would get is their capacity shared among one more. The capacity is
measured, not configured: frames analysed over the wall time the workers spent on them in the last
`window_s`, times the workers. That wall time includes the time the voice loop, the media and the
other worker took the cores away, so with more sessions the estimate falls toward what they get.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

FRAME_RATE_CAP = 30.0  # cameras send at most this many frames a second; more capacity buys nothing


class AnalysisLoad:
    """Thread-safe: the vision workers record, admission reads."""

    def __init__(self, window_s: float = 10.0, min_frames: int = 30, workers: int = 1,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.window_s = window_s
        self.workers = workers
        self.min_frames = min_frames
        self._clock = clock
        self._frames: deque[tuple[float, float]] = deque()  # (when, seconds it took)
        self._lock = threading.Lock()

    def record(self, seconds: float) -> None:
        """One frame analysed in `seconds` of its worker's wall time."""
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
            capacity = self.workers * len(self._frames) / busy if busy > 0 else float("inf")
        return min(FRAME_RATE_CAP, capacity / max(1, sessions))

    def _expire(self, now: float) -> None:
        while self._frames and self._frames[0][0] < now - self.window_s:
            self._frames.popleft()
