"""Whether the words heard so far end a sentence: a language model reads the pause transcript.

Smart Turn hears the sound of a pause. The words say what it cannot: "can you tell me how deep
my" needs more, "how many reps did I do" does not. A causal language model knows that as the
probability that the next token ends the sentence (".", "?", "!" or the end of the person's
message) after the transcript. On `benchmarks/turns.py` it tells finished questions from the
mid-sentence fragments with an AUC of 0.91, where Smart Turn's AUC on the same synthetic voices is
0.35; on 30 other coaching questions and their 180 prefixes (text only), a bar of 0.1 passed every
whole question and 9% of the prefixes, most of them questions themselves ("Am I going too fast").

The transcript is lower-cased and stripped of punctuation first: Whisper's full stop or question
mark is its own guess at the same thing, judged separately (`realtime/voice/turn_end.py`).

The model is the embedded LLM (Qwen2.5-Coder-1.5B-Instruct) read through a small llama.cpp context
of its own on the LLM's loaded weights: a few MB, where loading the GGUF a second time cost 660 MB
more (llama.cpp repacks the weights for the CPU in memory of its own), and it never disturbs the
reply's cached prompt. The fixed prompt up to the person's words is read once; a call reads only
the tokens that differ from what the context holds, so the partial transcripts read while the
person talks leave the pause only its last words (~25 ms a token on one core here).
"""

from __future__ import annotations

import re
import threading
from pathlib import Path
from typing import Any

import numpy as np

from models.llm.llama import END_OF_TEXT, GGUF_LOADING, chat_formatter, common_prefix

_SYSTEM = "You are a friendly fitness coach. The person is training in front of a camera and talks to you."
_MAX_WORDS = 40  # the end of a long monologue is judged on its last words: the context stays small and fast
_NOT_WORDS = re.compile(r"[^\w' ]+")
_N_CTX = 256
_BATCH = 64
_AFTER_END = set("?!\"'\u201d\u2019) \n")


def spoken_words(text: str) -> str:
    """The transcript as speech carries it: lower case, no punctuation, its last `_MAX_WORDS` words."""
    return " ".join(_NOT_WORDS.sub(" ", text.lower()).split()[-_MAX_WORDS:])


class SentenceEnd:
    """One context shared by every voice session (calls are serialised by a lock)."""

    def __init__(self, llama: Any, threads: int = 1) -> None:
        """`llama`: a loaded `llama_cpp.Llama`, whose weights, vocabulary and chat template this
        reads with a context of its own (`from_gguf` loads one)."""
        from llama_cpp import llama_context_default_params
        from llama_cpp._internals import LlamaBatch, LlamaContext

        self._llama = llama
        self.model_path = Path(llama.model_path)
        params = llama_context_default_params()
        params.n_ctx = _N_CTX
        params.n_batch = params.n_ubatch = _BATCH
        params.n_threads = params.n_threads_batch = threads
        self._ctx = LlamaContext(model=llama._model, params=params, verbose=False)  # noqa: SLF001
        self._batch = LlamaBatch(n_tokens=_BATCH, embd=0, n_seq_max=1, verbose=False)
        self._lock = threading.Lock()
        self._prefix, message_end = self._prompt_parts()
        self._ends = np.array(sorted(set(_sentence_end_tokens(llama)) | {message_end}))
        self._read: list[int] = []  # the tokens the context holds
        self._read_from(self._prefix, 0)
        self._last: tuple[list[int], float] | None = None

    @classmethod
    def from_gguf(cls, model_path: Path, threads: int = 1) -> SentenceEnd:
        """On weights loaded for it alone (the LLM is remote, or another model)."""
        if not Path(model_path).is_file():
            raise FileNotFoundError(f"GGUF not found at {model_path}; run the setup step (models.llm prepare_embedded)")
        from llama_cpp import Llama

        with GGUF_LOADING:
            llama = Llama(model_path=str(model_path), n_ctx=_N_CTX, n_batch=_BATCH, n_threads=threads,
                          n_threads_batch=threads, verbose=False)
        return cls(llama, threads)

    def probability(self, text: str) -> float:
        """Probability that the sentence ends after `text` (a transcript); 0 for no words."""
        words = spoken_words(text)
        if not words:
            return 0.0
        with self._lock:
            tokens = self._prefix + self._llama.tokenize(words.encode("utf-8"), add_bos=False, special=False)
            if self._last is not None and self._last[0] == tokens:
                return self._last[1]
            # Read from the first token that differs; at least the last one, whose logits are needed.
            self._read_from(tokens, min(common_prefix(np.array(self._read, dtype=np.intc), tokens), len(tokens) - 1))
            row = self._ctx.get_logits_ith(-1)
            logits = np.ctypeslib.as_array(row, shape=(self._llama.n_vocab(),)).astype(np.float64)
            p = np.exp(logits - logits.max())
            probability = float(p[self._ends].sum() / p.sum())
            self._last = (tokens, probability)
        return probability

    def _read_from(self, tokens: list[int], start: int) -> None:
        """Make the context hold `tokens`, reading them from `start` on (what it held before is kept)."""
        self._ctx.kv_cache_seq_rm(-1, start, -1)
        self._read = tokens[:start]
        for i in range(start, len(tokens), _BATCH):
            chunk = tokens[i:i + _BATCH]
            self._batch.set_batch(chunk, n_past=i, logits_all=False)
            self._ctx.decode(self._batch)
            self._read = tokens[:i + len(chunk)]

    def _prompt_parts(self) -> tuple[list[int], int]:
        """The prompt's tokens up to where the person's words go, and the token that closes a message,
        from the GGUF's own chat template."""
        formatter = chat_formatter(self._llama, generation_prompt=False)
        if formatter is None:
            raise ValueError(f"{self.model_path.name} has no chat template")
        result = formatter(messages=[{"role": "system", "content": _SYSTEM}, {"role": "user", "content": END_OF_TEXT}])
        before, after = result.prompt.split(END_OF_TEXT, 1)
        prefix = self._llama.tokenize(before.encode("utf-8"), add_bos=not result.added_special, special=True)
        closing = self._llama.tokenize(after.encode("utf-8"), add_bos=False, special=True)
        if len(prefix) + _MAX_WORDS * 3 > _N_CTX or not closing:
            raise ValueError(f"{self.model_path.name}: the chat template's prompt does not fit")
        return prefix, closing[0]


def _sentence_end_tokens(llama: Any) -> list[int]:
    """Tokens that end a sentence: ".", "?" or "!" followed by nothing but closing quotes, spacing
    or more "?!" ('?"', ".\n", "!!"); not "..." (trailing off), ".com" or "!="."""
    ends = []
    for token in range(llama.n_vocab()):
        text = llama.detokenize([token]).decode("utf-8", "replace").strip()
        if text[:1] in (".", "?", "!") and all(c in _AFTER_END for c in text[1:]):
            ends.append(token)
    return ends
