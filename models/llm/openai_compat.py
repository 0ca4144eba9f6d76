"""A chat backend for any OpenAI-compatible server (`POST {base_url}/chat/completions`, stream=true).

Lets the full profile put the LLM on a separate GPU box (vLLM, llama.cpp's server, Ollama, TGI) or a
hosted API. The reply arrives as server-sent events: `data: {json chunk}` lines, ending with
`data: [DONE]`. httpx is used synchronously because the voice loop calls models from worker threads.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx

from models.llm.options import RemoteChatOptions


class OpenAICompatibleChat:
    """`ChatModel` over HTTP. Thread-safe: each call streams on its own request of a shared pool."""

    def __init__(self, options: RemoteChatOptions) -> None:
        self.options = options
        headers = {"Authorization": f"Bearer {options.api_key}"} if options.api_key else {}
        self._client = httpx.Client(
            base_url=options.base_url.rstrip("/"),
            headers=headers,
            timeout=httpx.Timeout(options.read_timeout_s, connect=options.connect_timeout_s),
        )

    def close(self) -> None:
        self._client.close()

    def stream(
        self,
        messages: list[dict[str, str]],
        *,
        max_tokens: int | None = None,
        stop_event: threading.Event | None = None,
        spare_core: bool = False,  # noqa: ARG002 - the remote server has its own cores
    ) -> Iterator[str]:
        opts = self.options
        body: dict[str, Any] = {
            "model": opts.model,
            "messages": messages,
            "stream": True,
            "max_tokens": min(max_tokens or opts.max_tokens, opts.max_tokens),
            "temperature": opts.temperature,
            "top_p": opts.top_p,
        }
        if opts.seed is not None:
            body["seed"] = opts.seed
        started = time.monotonic()
        with self._client.stream("POST", "/chat/completions", json=body) as response:
            if response.status_code != 200:
                detail = response.read().decode("utf-8", "replace")[:300]
                raise RuntimeError(f"{opts.base_url} answered {response.status_code}: {detail}")
            for line in response.iter_lines():
                if stop_event is not None and stop_event.is_set():
                    return
                if time.monotonic() - started > opts.time_cap_s:
                    return
                if not line.startswith("data:"):
                    continue  # SSE comments, event names, keep-alives
                data = line[len("data:") :].strip()
                if data == "[DONE]":
                    return
                delta = _delta_text(json.loads(data))
                if delta:
                    yield delta


def _delta_text(chunk: dict[str, Any]) -> str | None:
    if "error" in chunk:
        raise RuntimeError(f"server error in stream: {chunk['error']}")
    choices = chunk.get("choices") or []
    return (choices[0].get("delta") or {}).get("content") if choices else None
