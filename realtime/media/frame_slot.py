"""A "latest frame wins" slot between the video track and the analysis.

When analysis is slower than the camera, a queue would grow and every overlay would arrive later
than the last. The slot holds one frame: a newer frame replaces an unconsumed one (counted as
dropped), so latency stays flat and the frame rate adapts to the CPU that is left.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(slots=True)
class Stamped(Generic[T]):
    """An item with its arrival time (time.monotonic) and its sequence number."""

    item: T
    arrived: float
    seq: int


class LatestFrameSlot(Generic[T]):
    """Single-slot mailbox; `put` never blocks, `get` waits for something newer than last time."""

    def __init__(self) -> None:
        self._item: Stamped[T] | None = None
        self._ready = asyncio.Event()
        self._seq = 0
        self.dropped = 0
        self.closed = False

    def put(self, item: T, arrived: float) -> None:
        if self._item is not None:
            self.dropped += 1
        self._seq += 1
        self._item = Stamped(item, arrived, self._seq)
        self._ready.set()

    async def get(self) -> Stamped[T] | None:
        """The newest item; None once closed."""
        while self._item is None and not self.closed:
            self._ready.clear()
            await self._ready.wait()
        item, self._item = self._item, None
        return item

    def close(self) -> None:
        self.closed = True
        self._ready.set()
