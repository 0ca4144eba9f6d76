"""Per-turn latency stamps: where the time between the end of speech and the reply's sound goes.

Stages (milliseconds after the person stopped speaking): `final_transcript`, `retrieval`,
`llm_first_token`, `first_sentence`, `tts_first_audio`, `first_reply_frame` (the first reply sample
handed to the wire: the voice-to-voice figure). A stage is stamped once; later stamps are ignored.
Stamps are kept as clock readings, so a turn answered speculatively (from the first silence, before
the VAD has confirmed the end of speech) can learn its origin later; a stage that happened before
the end of speech is negative.
"""

from __future__ import annotations

import time
from collections.abc import Callable

STAGES = ("final_transcript", "retrieval", "llm_first_token", "first_sentence", "tts_first_audio",
          "first_reply_frame")


class TurnTimer:
    """Stamps relative to `origin`: the end of the person's speech (or the text's arrival for chat)."""

    def __init__(self, turn: int, speech_end: float | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.turn = turn
        self._clock = clock
        self.origin = speech_end if speech_end is not None else clock()
        self._at: dict[str, float] = {}
        self.reported = False

    def stamp(self, stage: str) -> bool:
        """Record `stage` now; False if it was already stamped."""
        if stage in self._at:
            return False
        self._at[stage] = self._clock()
        return True

    def __contains__(self, stage: str) -> bool:
        return stage in self._at

    def stages_ms(self) -> dict[str, float]:
        return {k: round((at - self.origin) * 1000.0, 1) for k, at in self._at.items()}
