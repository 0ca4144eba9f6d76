"""The chat interface the responder streams from."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Protocol


class ChatModel(Protocol):
    """Blocking; called from a worker thread. Messages are OpenAI-style {"role", "content"} dicts."""

    def stream(
        self,
        messages: list[dict[str, str]],
        *,
        max_tokens: int | None = None,
        stop_event: threading.Event | None = None,
        spare_core: bool = False,
    ) -> Iterator[str]:
        """Yield text deltas as they are generated.

        `spare_core`: the caller knows the machine's other work is paused, so a local backend may
        read the prompt with more threads (`LlmOptions.threads_batch_spare`).

        Ends at the model's end of turn, after `max_tokens` (default: the options' cap), at the time
        cap, or soon after `stop_event` is set (barge-in). Close the iterator if you stop reading early.
        """
        ...
