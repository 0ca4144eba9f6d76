"""When the coach speaks up on its own: which analysis events become spoken cues, and how often.

Cues come from templates (the fault's own cue text, rep counts), never from the LLM, so they are
ready within milliseconds of the event. Verbosity decides which events qualify; a minimum gap keeps
the coach from nagging, and the same fault is not repeated within a longer gap.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from realtime.protocol import CueVerbosity

_NUMBER_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
                 "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
                 "nineteen", "twenty")


@dataclass
class CuePolicy:
    """Decides whether an analysis event is spoken now, and with which words."""

    verbosity: CueVerbosity = "normal"
    min_gap_s: dict[str, float] = field(default_factory=lambda: {"low": 8.0, "normal": 4.0, "high": 2.0})
    same_fault_gap_s: float = 12.0
    _last_cue: float = -1e9
    _last_fault: dict[str, float] = field(default_factory=dict)

    def cue_for(self, event: dict[str, Any], now: float | None = None) -> str | None:
        """The words to say for `event`, or None when it should stay silent."""
        if self.verbosity == "off":
            return None
        now = time.monotonic() if now is None else now
        text = self._text(event)
        if text is None or now - self._last_cue < self.min_gap_s[self.verbosity]:
            return None
        if event.get("type") == "fault_detected":
            fault = str(event.get("fault", ""))
            if now - self._last_fault.get(fault, -1e9) < self.same_fault_gap_s:
                return None
            self._last_fault[fault] = now
        self._last_cue = now
        return text

    def _text(self, event: dict[str, Any]) -> str | None:
        kind = event.get("type")
        if kind == "fault_detected":
            return str(event.get("cue") or "") or None
        if kind == "guidance" and self.verbosity != "low":
            return str(event.get("message") or "") or None
        if kind == "rep_completed":
            rep = int(event.get("rep", 0))
            if self.verbosity == "high" or (self.verbosity == "normal" and rep % 5 == 0):
                return (_NUMBER_WORDS[rep] if rep < len(_NUMBER_WORDS) else str(rep)) + "."
        return None
