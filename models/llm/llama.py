"""llama.cpp backend (llama-cpp-python): local GGUF models on CPU or CUDA.

The chat template comes from the GGUF itself (`create_chat_completion` renders it with Jinja).

KV-cache prefix reuse: llama-cpp-python keeps the tokens it last evaluated, and `generate()` skips
the longest common prefix of the new prompt with them. So as long as every turn starts with the same
system prompt (put the per-turn facts AFTER the fixed instructions), a turn only pays for its new
tokens. This needs one `Llama` per process that every session shares: one context, one cache. A
`Llama` is not thread-safe, so a lock serialises turns; a turn waiting for the lock gives up when its
`stop_event` is set.

Reading a prompt costs ~25 ms a token on one core here, so the voice loop reads most of a turn's
prompt while the person is still talking (`prefill`): the open end of a prompt, evaluated in small
chunks. A newer prefill takes over after the chunk being read; a reply asking for the model stops
that chunk mid-way (llama.cpp's abort callback) and has the model at once, unless the chunk is
reading the reply's own tokens as fast as the reply would.
"""

from __future__ import annotations

import ctypes
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from models.llm.options import LlmOptions

# Tokens per prefill step: a newer prefill takes over between steps, and a step a reply stops is lost;
# 16 keeps 85% of the speed of one big batch (41 vs 48 tokens/s on one core), 8 only half.
PREFILL_CHUNK = 16
MIN_PADDED_CHUNK = 10  # a read this far past a multiple of PREFILL_CHUNK is padded to the next (see _padded_start)
END_OF_TEXT = "\u2063"  # marks where the last message's text ends in a rendered prompt
# While a `Llama` loads quietly, llama-cpp-python points the process's stdout and stderr at
# /dev/null and back. Two loads at once (the LLM beside the sentence model, models/turn) restore
# each other's /dev/null, and the server's output was gone for good: every load holds this lock.
GGUF_LOADING = threading.Lock()


class LlamaCppChat:
    """`ChatModel` over one llama.cpp context (one per process; turns are serialised)."""

    def __init__(self, options: LlmOptions, *, verbose: bool = False) -> None:
        self.options = options
        self._lock = threading.Lock()
        self._llama = _load(options, verbose)
        self._formatter = chat_formatter(self._llama, generation_prompt=False)
        self._reply_formatter = chat_formatter(self._llama, generation_prompt=True)
        if self._formatter is not None:
            # Replies are rendered with the GGUF's own template, as `prefill` renders them. Else, for a
            # template it recognises (Mistral's, Llama-3's), llama-cpp-python uses its hard-coded
            # formatter, whose spacing after a reply differs, and the reply re-reads the turn from there.
            self._llama.chat_format = "chat_template.default"
        self._logit_bias = {token: -100.0 for token in _tokens_starting_with(self._llama, "[")} \
            if options.no_brackets else None
        self._replies_waiting = 0
        self._prefill_ticket = 0
        self._counter_lock = threading.Lock()
        self._prompt_threads = options.threads_batch
        self._chunk_threads = 0  # threads of the prefill chunk being read, 0 when none is
        self._chunk: tuple[int, list[int]] = (0, [])  # its first position and its tokens
        self._chunk_stop = _abort_flag(self._llama)

    @property
    def llama(self) -> Any:
        """The underlying `llama_cpp.Llama` (for tokenising in benchmarks; do not call it unlocked)."""
        return self._llama

    def prefill(self, messages: list[dict[str, str]], *, spare_core: bool | Callable[[], bool] = False) -> int:
        """Read `messages` into the KV cache, up to the end of the last message's text (left open:
        more words may follow). Returns the number of tokens it added to the cache.

        Only what the cache does not already hold is read, in chunks of `PREFILL_CHUNK` tokens;
        it stops early, keeping the chunks it has read, as soon as a reply waits for the model
        (mid-chunk), a newer prefill is asked for, or `cancel_prefill` is called. A later `stream`
        whose prompt starts with these tokens reads only the rest. A callable `spare_core` is
        asked before each chunk (a transcription that starts or ends changes the answer while
        the person talks).
        """
        if self._formatter is None:
            return 0  # no chat template in the GGUF: the prompt cannot be rendered the same way
        with self._counter_lock:
            self._prefill_ticket += 1
            ticket = self._prefill_ticket
        tokens = self._open_prompt_tokens(messages)

        def superseded() -> bool:
            return self._replies_waiting > 0 or self._prefill_ticket != ticket

        while not self._lock.acquire(timeout=0.02):
            if superseded():
                return 0
        try:
            llama = self._llama
            start = common_prefix(llama.input_ids[: llama.n_tokens], tokens)
            if start == len(tokens):
                return 0
            llama.n_tokens = start  # `eval` drops the cache past this point
            while llama.n_tokens < len(tokens) and not superseded():
                self._use_prompt_threads(spare_core() if callable(spare_core) else spare_core)
                chunk_end = min(len(tokens), llama.n_tokens + PREFILL_CHUNK)
                self._eval_unless_stopped(tokens, _padded_start(llama.n_tokens, chunk_end))
            return max(0, llama.n_tokens - start)
        finally:
            self._lock.release()

    def yield_cores(self) -> None:
        """Whisper starts the final transcript: a prefill chunk reading with both cores stops now,
        mid-chunk, and is read again with one. Left to finish, it slowed the transcript down and
        ended after it (0.3-0.5 s for 16 tokens beside Whisper, ~0.2 s alone), and the reply
        waited for it."""
        self._stop_chunk(wider_than=self.options.threads_batch)

    def _stop_chunk(self, wider_than: int) -> None:
        """Stop the prefill chunk being read, if it uses more than `wider_than` threads."""
        with self._counter_lock:
            if self._chunk_threads > wider_than:
                self._chunk_stop.value = b"x"

    def _stop_chunk_unless_part_of(self, messages: list[dict[str, str]], threads: int) -> None:
        """A reply is waiting: the prefill chunk being read stops mid-way, unless it reads tokens the
        reply's prompt has at the same place, with as many threads as the reply would.

        On one core beside the rest of the voice loop a chunk takes 0.4-1.1 s here, and the reply
        reads its tokens again with both cores sooner than it would wait for them; a chunk already
        read with both is the reply's own reading under way (stopping one threw away 0.2-0.5 s).
        """
        prompt = self._open_prompt_tokens(messages) if self._formatter is not None else []
        with self._counter_lock:
            begin, tokens = self._chunk
            if tokens and (self._chunk_threads < threads or prompt[begin : begin + len(tokens)] != tokens):
                self._chunk_stop.value = b"x"

    def _eval_unless_stopped(self, tokens: list[int], begin: int) -> None:
        """`eval` the prefill chunk of `tokens` from `begin`, unless a reply waits for the model;
        if `_stop_chunk` stops it, nothing of it is kept (`n_tokens` stays at `begin`)."""
        with self._counter_lock:
            if self._replies_waiting:  # one asked since the loop last looked: it would not stop this chunk
                return
            self._chunk_threads = self._prompt_threads
            self._chunk = (begin, tokens[begin : begin + PREFILL_CHUNK])
        try:
            self._llama.n_tokens = begin  # `eval` drops the cache from here on and reads it again
            self._llama.eval(tokens[begin : begin + PREFILL_CHUNK])
        except RuntimeError:  # llama_decode returned 2 (aborted): the cache from `begin` on is dropped
            if not self._chunk_stop.value:
                raise
        finally:
            with self._counter_lock:
                self._chunk_threads = 0
                self._chunk = (0, [])
                self._chunk_stop.value = b""

    def cancel_prefill(self) -> None:
        """Stop the prefill in progress at its next chunk, keeping what it has read: a reply is about
        to be asked for (its transcript is being made), and needs the cores now."""
        with self._counter_lock:
            self._prefill_ticket += 1

    def _use_prompt_threads(self, spare_core: bool) -> None:
        """More prompt threads only while the other core is free: llama.cpp's threads wait for each
        other at every step, so with the other core busy a second thread slows reading down."""
        threads = self.options.threads_batch_spare if spare_core else self.options.threads_batch
        if threads != self._prompt_threads:
            from llama_cpp import llama_set_n_threads

            llama_set_n_threads(self._llama.ctx, self.options.threads, threads)
            self._prompt_threads = threads

    def _open_prompt_tokens(self, messages: list[dict[str, str]]) -> list[int]:
        """The prompt `create_chat_completion` would build, cut where the last message's text ends.

        The last token is left out: cut text may tokenise differently at its end than it will once
        more words follow it.
        """
        rendered = [dict(m) for m in self._template_messages(messages)]
        rendered[-1]["content"] += END_OF_TEXT
        result = self._formatter(messages=rendered)
        text = result.prompt[: result.prompt.index(END_OF_TEXT)]
        tokens = self._llama.tokenize(text.encode("utf-8"), add_bos=not result.added_special, special=True)
        return tokens[:-1]

    def _reply_prompt_tokens(self, messages: list[dict[str, str]]) -> list[int]:
        """The prompt `create_chat_completion` builds for `messages`, tokenised as it tokenises it."""
        result = self._reply_formatter(messages=self._template_messages(messages))
        return self._llama.tokenize(result.prompt.encode("utf-8"), add_bos=not result.added_special, special=True)

    def _template_messages(self, messages: list[dict[str, str]]) -> list[dict[str, str]]:
        return messages if self.options.system_role else fold_system_into_first_user(messages)

    def _read_whole_chunks(self, messages: list[dict[str, str]]) -> None:
        """Forget a few cached tokens when that makes what the reply reads a whole number of
        `PREFILL_CHUNK`s, which llama.cpp reads sooner than a few tokens less (`_padded_start`).
        The caller holds the lock."""
        if self._reply_formatter is None:
            return
        prompt = self._reply_prompt_tokens(messages)
        llama = self._llama
        cached = common_prefix(llama.input_ids[: llama.n_tokens], prompt)
        if 0 < cached < len(prompt):
            llama.n_tokens = _padded_start(cached, len(prompt))  # `generate` reads from here on

    def stream(
        self,
        messages: list[dict[str, str]],
        *,
        max_tokens: int | None = None,
        stop_event: threading.Event | None = None,
        spare_core: bool = False,
    ) -> Iterator[str]:
        opts = self.options
        started = time.monotonic()
        with self._counter_lock:
            self._replies_waiting += 1  # a prefill holding the model gives way now
        reply_threads = opts.threads_batch_spare if spare_core else opts.threads_batch
        self._stop_chunk_unless_part_of(messages, reply_threads)
        try:
            while not self._lock.acquire(timeout=0.01):
                if stop_event is not None and stop_event.is_set():
                    return
        finally:
            with self._counter_lock:
                self._replies_waiting -= 1
        try:
            self._use_prompt_threads(spare_core)
            self._read_whole_chunks(messages)
            chunks = self._llama.create_chat_completion(
                messages=self._template_messages(messages),
                stream=True,
                max_tokens=min(max_tokens or opts.max_tokens, opts.max_tokens),
                temperature=opts.temperature,
                top_p=opts.top_p,
                top_k=opts.top_k,
                repeat_penalty=opts.repeat_penalty,
                seed=opts.seed,
                logit_bias=self._logit_bias,
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


def _abort_flag(llama: Any) -> ctypes.Array[ctypes.c_char]:
    """A flag that stops an `eval` of this context between two operations: b"x" stops, b"" not.

    llama.cpp asks its abort callback after every operation of a graph, ~650 times per eval here.
    A Python callback takes the GIL each time (a 16-token eval took 3.9 s instead of 0.4 s beside
    a busy Python thread), so the callback is libc's `strlen`, reading the flag's first byte
    without Python. Without libc (Windows), nothing is ever stopped mid-eval.
    """
    import llama_cpp

    flag = ctypes.create_string_buffer(2)
    try:
        strlen = ctypes.cast(ctypes.CDLL(None).strlen, ctypes.c_void_p).value
    except (AttributeError, OSError, TypeError):
        return flag
    callback = llama_cpp.ggml_abort_callback(strlen)
    llama_cpp.llama_set_abort_callback(llama.ctx, callback, ctypes.cast(flag, ctypes.c_void_p))
    llama._abort_callback = callback  # noqa: SLF001 - kept alive as long as the context
    return flag


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


def _padded_start(position: int, end: int) -> int:
    """Where to start reading the tokens up to `end` in one batch: at `position`, or a few cached
    tokens before it when that makes the batch a whole number of `PREFILL_CHUNK`s.

    llama.cpp on this CPU reads 10-15 tokens past a multiple of 16 slower than the multiple itself
    (two threads, median of five: 15 tokens in 290 ms, 16 in 220 ms; 29 in 418 ms, 32 in 369 ms;
    one thread: 15 in 503 ms, 16 in 382 ms; 26 in 742 ms, 32 in 715 ms). Ten past is about even.
    """
    short = (end - position) % PREFILL_CHUNK
    if short >= MIN_PADDED_CHUNK:
        return max(0, position - (PREFILL_CHUNK - short))
    return position


def common_prefix(cached: np.ndarray, tokens: list[int]) -> int:
    """How many of `tokens` the context already holds: its cached tokens' common prefix with them."""
    n = min(len(cached), len(tokens))
    differ = np.flatnonzero(np.asarray(cached[:n]) != np.asarray(tokens[:n], dtype=cached.dtype))
    return int(differ[0]) if differ.size else n


def _tokens_starting_with(llama: Any, text: str) -> list[int]:
    """Ids of the vocabulary's tokens whose text starts with `text`, after a leading space
    (written 'Ġ' in byte-level BPE vocabularies, '▁' in SentencePiece ones)."""
    model = llama._model  # noqa: SLF001 - llama-cpp-python keeps the vocabulary there
    return [token for token in range(llama.n_vocab())
            if model.token_get_text(token).lstrip(" Ġ▁").startswith(text)]


def chat_formatter(llama: Any, *, generation_prompt: bool) -> Any:
    """The formatter llama-cpp-python builds from the GGUF's chat template, with the generation
    prompt for a reply or without it for a prefill (which ends inside the last message); None
    without a template."""
    template = llama.metadata.get("tokenizer.chat_template")
    if not template:
        return None
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

    def token_text(token: int) -> str:
        return llama.detokenize([token], special=True).decode("utf-8", "replace") if token != -1 else ""

    return Jinja2ChatFormatter(template=template, eos_token=token_text(llama.token_eos()),
                               bos_token=token_text(llama.token_bos()), add_generation_prompt=generation_prompt)


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
        # On CUDA (H100, 7B shape): prompt +29%, generation +24% through `stream`; CPU runs keep llama.cpp's default.
        "flash_attn": options.n_gpu_layers != 0,
        "verbose": verbose,
    }
    if options.model_path is not None:
        if not options.model_path.is_file():
            raise FileNotFoundError(f"GGUF not found at {options.model_path}; run the setup step (prepare_embedded)")
        with GGUF_LOADING:
            return Llama(model_path=str(options.model_path), **common)
    if options.hub_repo and options.hub_filename:
        try:
            with GGUF_LOADING:
                return Llama.from_pretrained(
                    repo_id=options.hub_repo,
                    filename=options.hub_filename,
                    cache_dir=str(options.cache_dir) if options.cache_dir else None,
                    **common,
                )
        except Exception as exc:  # no Hub access, not cached, no CUDA build
            raise RuntimeError(f"cannot load {options.hub_repo}/{options.hub_filename}: {exc}") from exc
    raise ValueError("LlmOptions needs model_path, or hub_repo and hub_filename")
