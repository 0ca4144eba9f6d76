"""Where the words of an answer come from: the measured facts, the coaching notes, the LLM.

A question about what was measured is answered from the facts (`fact_answers.py`, a few ms); the
coaching note for a question is found in the knowledge base; anything else streams from the LLM,
its text cleaned of note tags as it comes. Each runs off the event loop, and a model that throws
costs the answer, never the voice loop: the facts and notes fall back to nothing, the LLM's error
is handed back to be reported. `conversation.py` decides when to answer and speaks the words.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable
from concurrent.futures import Executor
from typing import Any, Protocol

from realtime.voice.fact_answers import FactAnswer
from realtime.voice.note_tags import NoteTagFilter
from realtime.voice.reply import ActiveReply
from realtime.voice.responder import find_note

log = logging.getLogger(__name__)


class AnswerModels(Protocol):
    """The model hub's part in answering; `llm` and `knowledge` are None until loaded."""

    llm: Any
    knowledge: Any
    reply_pool: Executor

    def answer_from_facts(self, question: str, facts: dict[str, Any]) -> Any: ...


class AnswerSources:
    """One session's ways to the words of an answer."""

    def __init__(self, models: AnswerModels, first_synthesis_wait_s: float, session_id: str) -> None:
        self._models = models
        self._first_synthesis_wait_s = first_synthesis_wait_s
        self._session_id = session_id

    async def from_facts(self, request: str, facts: Callable[[], dict[str, Any]]) -> FactAnswer | None:
        """The answer from the measured facts, if `request` asks for one; `facts` is asked for the
        fact sheet only when there is an embedder to tell."""
        if self._models.knowledge is None:
            return None
        try:
            return await asyncio.get_running_loop().run_in_executor(
                None, self._models.answer_from_facts, request, facts())
        except Exception as exc:  # the embedder threw: the LLM answers instead
            log.warning("session %s: fact answer failed: %s", self._session_id, exc)
            return None

    async def find_note(self, query: str, exercise: str | None, faults: list[str],
                        keep: list[Any] | None = None) -> list[Any]:
        """The coaching note(s) for `query` (`responder.find_note`; an embedding costs a few ms)."""
        if self._models.knowledge is None:
            return []
        return await asyncio.get_running_loop().run_in_executor(
            None, functools.partial(find_note, self._models.knowledge, query, exercise, faults, keep=keep))

    async def stream_llm(self, messages: list[dict[str, str]], reply: ActiveReply, spare_core: bool,
                         on_token: Callable[[], None], on_text: Callable[[str], None]) -> BaseException | None:
        """Stream the LLM's answer: `on_token` at each token, `on_text` with its text as it becomes
        sayable; returns what the model threw, if it did. Generation waits while the reply's first
        sentence is being synthesised: on 2 cores the two would slow each other down."""
        loop = asyncio.get_running_loop()
        tags = NoteTagFilter()
        deltas: asyncio.Queue[str | BaseException | None] = asyncio.Queue()
        llm = self._models.llm

        def generate() -> None:
            try:
                for delta in llm.stream(messages, stop_event=reply.stop, spare_core=spare_core):
                    loop.call_soon_threadsafe(deltas.put_nowait, delta)
                    if reply.speaker is not None:
                        reply.speaker.wait_while_first_synthesis(self._first_synthesis_wait_s)
            except Exception as exc:  # the model threw: reported, the session goes on
                loop.call_soon_threadsafe(deltas.put_nowait, exc)
            finally:
                loop.call_soon_threadsafe(deltas.put_nowait, None)

        generation = loop.run_in_executor(self._models.reply_pool, generate)
        failed: BaseException | None = None
        while (delta := await deltas.get()) is not None:
            if isinstance(delta, BaseException):
                failed = delta
                continue
            on_token()
            on_text(tags.push(delta))
        await generation
        on_text(tags.flush())
        return failed
