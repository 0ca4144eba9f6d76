"""Holds back what a speculative reply says and plays until its turn is confirmed.

The reply to a spoken turn starts at the first ~150 ms of silence, while the VAD is still waiting
for `min_silence_ms` to be sure the person has finished: transcription, the LLM and the first
clause's synthesis overlap that wait. Everything the reply would send (transcript, text deltas,
audio) goes through its gate: held in order while the turn is unconfirmed, released in order when
the VAD confirms, and simply dropped, never heard, if the person goes on speaking.
"""

from __future__ import annotations

import threading
from collections.abc import Callable


class Gate:
    """Runs actions now once confirmed; before that, keeps them in order. Thread-safe: messages
    come from the event loop, audio from the TTS worker."""

    def __init__(self, confirmed: bool = True) -> None:
        self._lock = threading.RLock()  # an action may itself run() through the gate
        self._confirmed = confirmed
        self._held: list[Callable[[], None]] = []

    @property
    def confirmed(self) -> bool:
        return self._confirmed

    def run(self, action: Callable[[], None]) -> None:
        # Under the lock, so an action from another thread cannot overtake the held ones.
        with self._lock:
            if self._confirmed:
                action()
            else:
                self._held.append(action)

    def confirm(self) -> None:
        with self._lock:
            self._confirmed = True
            held, self._held = self._held, []
            for action in held:
                action()
