"""Per-turn latency stamps: where the time between the end of speech and the reply's sound goes.

Stages (milliseconds after the person stopped speaking): `final_transcript`, `llm_first_token`,
`first_sentence`, `tts_first_audio`, `first_reply_frame` (the first reply sample handed to the
wire: the voice-to-voice figure). A stage is stamped once; later stamps of it are ignored.
"""

from __future__ import annotations

import time

STAGES = ("final_transcript", "retrieval", "llm_first_token", "first_sentence", "tts_first_audio",
          "first_reply_frame")


class TurnTimer:
    """Stamps relative to the end of the person's speech (or the text's arrival for chat)."""

    def __init__(self, turn: int, speech_end: float | None = None) -> None:
        self.turn = turn
        self.origin = speech_end if speech_end is not None else time.monotonic()
        self.stamps: dict[str, float] = {}
        self.reported = False

    def stamp(self, stage: str) -> bool:
        """Record `stage` now; False if it was already stamped."""
        if stage in self.stamps:
            return False
        self.stamps[stage] = (time.monotonic() - self.origin) * 1000.0
        return True

    def stages_ms(self) -> dict[str, float]:
        return {k: round(v, 1) for k, v in self.stamps.items()}
