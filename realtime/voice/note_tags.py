"""Keeps the notes' ids out of what the coach says.

The prompt gives each coaching note as "[doc-id] text", and the small model now and then starts its
answer by copying the id ("[rest-between-sets] For beginners, ..."). The ids reach the client as
citations; in the answer they would be spoken, shown, and copied again from the history next turn.
"""

from __future__ import annotations

import re

_TAG = re.compile(r"\[[a-z0-9]+(?:-[a-z0-9]+)*\] ?")
# What may still become a tag when more text comes, or a whole one whose following space has not.
_OPEN_TAG = re.compile(r"\[[a-z0-9-]*\]?\Z")


class NoteTagFilter:
    """Streaming: `push` each delta and use what it returns, then `flush` at the end of the reply.

    Text that could be the start of a tag is held back until it is decided, at most one id long.
    """

    def __init__(self) -> None:
        self._held = ""

    def push(self, delta: str) -> str:
        text = self._held + delta
        if (open_tag := _OPEN_TAG.search(text)) is not None:
            self._held, text = text[open_tag.start():], text[: open_tag.start()]
        else:
            self._held = ""
        return _TAG.sub("", text)

    def flush(self) -> str:
        text, self._held = _TAG.sub("", self._held), ""
        return text
