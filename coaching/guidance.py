"""Rate limiting for spoken guidance ("Step back so I can see your feet").

A condition must hold for `after_s` before it is said (a missed frame is not worth a word),
the same message is not repeated within `repeat_s`, and no two messages come closer than
`min_gap_s`, so the coach helps without nagging.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True)
class GuidanceGate:
    after_s: float = 1.0
    repeat_s: float = 20.0
    min_gap_s: float = 4.0
    _since: dict[str, float] = field(default_factory=dict)
    _said: dict[str, float] = field(default_factory=dict)
    _last_any: float = float("-inf")

    def reset(self) -> None:
        self._since.clear()
        self._said.clear()
        self._last_any = float("-inf")

    def due(self, active: list[str], t: float) -> str | None:
        """The first of the `active` messages (in priority order) that may be said now, if any."""
        for gone in set(self._since) - set(active):
            del self._since[gone]
        chosen = None
        for message in active:
            since = self._since.setdefault(message, t)
            if chosen is None and t - since >= self.after_s \
                    and t - self._said.get(message, float("-inf")) >= self.repeat_s \
                    and t - self._last_any >= self.min_gap_s:
                chosen = message
        if chosen is not None:
            self._said[chosen] = t
            self._last_any = t
        return chosen
