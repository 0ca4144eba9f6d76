"""Reading ahead: the LLM reads a turn's prompt into its KV cache while the person is still talking.

Prompt reading is the slow part of an answer on a CPU (~45 tokens/s on one core here), so it is
done in stages while they talk: the measured facts (at speech start, and after each reply for the
next turn), then at each partial transcript the coaching note retrieved for the words so far and
the words themselves. At the end of the turn only the last words are left to read. A newer read,
or a reply, makes an older one stop where it is (the LLM backend's `prefill` does that).

The note found for a turn's words is remembered (`note_for`), so the reply grounds itself in the
note already in the cache unless the whole question finds a better one.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import Executor
from typing import Any

from realtime.voice.responder import HistoryTurn, build_messages

FindNote = Callable[[str, str | None, list[str], list[Any] | None], Awaitable[list[Any]]]
Facts = tuple[list[str], str | None, list[str]]  # fact lines, exercise, faults seen


class ReadAhead:
    """One session's reading ahead into the (shared) LLM's cache."""

    def __init__(self, llm: Callable[[], Any], pool: Executor, find_note: FindNote, spare_core: Callable[[], bool],
                 min_words: int) -> None:
        self._llm = llm  # the hub's model of the moment: it may still be loading when the session starts
        self._pool = pool
        self._find_note = find_note
        self._spare_core = spare_core
        self._min_words = min_words
        self._noted: tuple[int, list[Any]] | None = None  # (turn, passages) read into the LLM
        self.noted_words = ""  # the partial transcript read with them

    @property
    def available(self) -> bool:
        """The LLM backend can read ahead (llama.cpp can; a remote or fake one may not)."""
        return getattr(self._llm(), "prefill", None) is not None

    def note_for(self, turn: int) -> list[Any] | None:
        """The passages read ahead for `turn`'s words so far, if any were."""
        return self._noted[1] if self._noted is not None and self._noted[0] == turn else None

    def remember_note(self, turn: int, passages: list[Any], words: str) -> None:
        """`passages` were found for `turn`'s words so far, `words`, and are being read."""
        self._noted, self.noted_words = (turn, passages), words

    def forget(self) -> None:
        """A new turn began: the note read for the last one is not this one's."""
        self._noted = None

    async def prefill(self, turn: int, words: str | None, facts: Facts, history: Sequence[HistoryTurn],
                      still_current: Callable[[], bool]) -> None:
        """Read the facts (`words=None`), or the note found for `words` and the words, into the cache.
        `still_current` is asked after the note is found: False when the turn moved on, or its
        reply already reads the whole question."""
        if not self.available:
            return
        lines, exercise, faults = facts
        passages = None
        if words is not None:
            if len(words.split()) < self._min_words:
                return
            passages = await self._find_note(words, exercise, faults, self.note_for(turn))
            if not still_current():
                return
            self.remember_note(turn, passages, words)
        await self.read(build_messages(words or "", lines, passages, history))

    def continue_note(self, turn: int, lines: list[str], history: Sequence[HistoryTurn]) -> list[dict[str, str]] | None:
        """The prompt read so far for `turn` (its note and the words heard with it), to go on
        reading beside the final transcript; None when no note was read for it."""
        noted = self.note_for(turn)
        if not noted:
            return None
        return build_messages(self.noted_words, lines, noted, history)

    async def read(self, messages: list[dict[str, str]]) -> None:
        """`messages` into the LLM's KV cache, on two threads while a core is spare; a newer read
        stops it after its chunk, a reply asking for the model at once."""
        await asyncio.get_running_loop().run_in_executor(
            self._pool, functools.partial(self._llm().prefill, messages, spare_core=self._spare_core))

    def yield_cores(self) -> None:
        """A read with both cores goes on with one: the final transcript starts beside it."""
        if (fn := getattr(self._llm(), "yield_cores", None)) is not None:
            fn()

    def stop(self) -> None:
        """Stop reading where it is (what was read stays cached): the cores are needed now."""
        if (fn := getattr(self._llm(), "cancel_prefill", None)) is not None:
            fn()
