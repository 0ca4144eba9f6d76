"""llama.cpp backend (llama-cpp-python): local GGUF models on CPU or CUDA.

The chat template comes from the GGUF itself (`create_chat_completion` renders it with Jinja).

KV-cache prefix reuse: llama-cpp-python keeps the tokens it last evaluated, and `generate()` skips
the longest common prefix of the new prompt with them. So as long as every turn starts with the same
system prompt (put the per-turn facts AFTER the fixed instructions), a turn only pays for its new
tokens. This needs one `Llama` per process that every session shares: one context, one cache. A
`Llama` is not thread-safe, so a lock serialises turns; a turn waiting for the lock gives up when its
`stop_event` is set.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

from models.llm.options import LlmOptions


class LlamaCppChat:
    """`ChatModel` over one llama.cpp context (one per process; turns are serialised)."""

    def __init__(self, options: LlmOptions, *, verbose: bool = False) -> None:
        self.options = options
        self._lock = threading.Lock()
        self._llama = _load(options, verbose)

    @property
    def llama(self) -> Any:
        """The underlying `llama_cpp.Llama` (for tokenising in benchmarks; do not call it unlocked)."""
        return self._llama

    def warm_up(self, messages: list[dict[str, str]]) -> None:
        """Evaluate a prompt (e.g. the fixed system prompt) into the KV cache, so the first real
        turn starts warm instead of paying several seconds for the whole prefix."""
        for _ in self.stream(messages, max_tokens=1):
            pass

    def stream(
        self,
        messages: list[dict[str, str]],
        *,
        max_tokens: int | None = None,
        stop_event: threading.Event | None = None,
    ) -> Iterator[str]:
        opts = self.options
        started = time.monotonic()
        while not self._lock.acquire(timeout=0.05):
            if stop_event is not None and stop_event.is_set():
                return
        try:
            chunks = self._llama.create_chat_completion(
                messages=messages if opts.system_role else fold_system_into_first_user(messages),
                stream=True,
                max_tokens=min(max_tokens or opts.max_tokens, opts.max_tokens),
                temperature=opts.temperature,
                top_p=opts.top_p,
                top_k=opts.top_k,
                repeat_penalty=opts.repeat_penalty,
                seed=opts.seed,
            )
            try:
                for chunk in chunks:
                    if stop_event is not None and stop_event.is_set():
                        break
                    delta = chunk["choices"][0]["delta"].get("content")
                    if delta:
                        yield delta
                    if time.monotonic() - started > opts.time_cap_s:
                        break
            finally:
                chunks.close()
        finally:
            self._lock.release()


def fold_system_into_first_user(messages: list[dict[str, str]]) -> list[dict[str, str]]:
    """For templates with no system role: prepend the system text to the first user turn.

    The first user turn (not the last, where some templates put it) keeps the system text at the
    start of the prompt, where the KV cache can reuse it.
    """
    system = "\n\n".join(m["content"] for m in messages if m["role"] == "system")
    rest = [dict(m) for m in messages if m["role"] != "system"]
    if system:
        for message in rest:
            if message["role"] == "user":
                message["content"] = f"{system}\n\n{message['content']}"
                break
        else:
            rest.insert(0, {"role": "user", "content": system})
    return rest


def _load(options: LlmOptions, verbose: bool) -> Any:
    try:
        from llama_cpp import Llama
    except ImportError as exc:
        raise RuntimeError("llama-cpp-python is not installed (pip install llama-cpp-python==0.3.36)") from exc
    common: dict[str, Any] = {
        "n_ctx": options.n_ctx,
        "n_threads": options.threads,
        "n_threads_batch": options.threads_batch,
        "n_gpu_layers": options.n_gpu_layers,
        "verbose": verbose,
    }
    if options.model_path is not None:
        if not options.model_path.is_file():
            raise FileNotFoundError(f"GGUF not found at {options.model_path}; run the setup step (prepare_embedded)")
        return Llama(model_path=str(options.model_path), **common)
    if options.hub_repo and options.hub_filename:
        try:
            return Llama.from_pretrained(
                repo_id=options.hub_repo,
                filename=options.hub_filename,
                cache_dir=str(options.cache_dir) if options.cache_dir else None,
                **common,
            )
        except Exception as exc:  # no Hub access, not cached, no CUDA build
            raise RuntimeError(f"cannot load {options.hub_repo}/{options.hub_filename}: {exc}") from exc
    raise ValueError("LlmOptions needs model_path, or hub_repo and hub_filename")
