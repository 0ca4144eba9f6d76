"""The coach's own words heard back: a transcript that only repeats what the coach just said.

The echo canceller (realtime/media/echo.py) takes the coach's voice out of a speakerphone's
microphone, but not always all of it: on a loaded machine the last words of a reply came back
after AEC3 and Whisper wrote them down ("Breathe out, you stand up."), a turn the coach would
then answer as if the person had spoken. The coach knows what it said, so a final transcript made
of those words, in a session whose microphone is known to carry the coach's voice back, is its own
echo and is dropped. A person repeating the coach word for word within seconds is rarer than that
echo, and loses only an answer to their own echo of it.
"""

from __future__ import annotations

import re
import time
from collections import Counter, deque
from collections.abc import Callable

_WORD = re.compile(r"[a-z0-9']+")
_KEEP_S = 10.0  # what the coach said longer ago than this cannot still come back
_ECHO_SHARE = 0.8  # this share of a transcript's words among the coach's recent ones: its echo


def words(text: str) -> list[str]:
    """Lower-case words, punctuation dropped (Whisper punctuates an echo its own way)."""
    return _WORD.findall(text.lower())


class OwnWords:
    """What the coach said in the last seconds (every sentence it synthesised, answers and cues)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, keep_s: float = _KEEP_S) -> None:
        self._clock = clock
        self._keep_s = keep_s
        self._said: deque[tuple[float, list[str]]] = deque()

    def said(self, sentence: str) -> None:
        self._said.append((self._clock(), words(sentence)))
        self._forget()

    def is_echo(self, transcript: str) -> bool:
        """Nearly every word of `transcript` is among the coach's words of the last seconds."""
        self._forget()
        heard = words(transcript)
        if not heard or not self._said:
            return False
        recent = Counter(w for _, ws in self._said for w in ws)
        found = sum(min(n, recent[w]) for w, n in Counter(heard).items())
        return found >= _ECHO_SHARE * len(heard)

    def _forget(self) -> None:
        now = self._clock()
        while self._said and now - self._said[0][0] > self._keep_s:
            self._said.popleft()
