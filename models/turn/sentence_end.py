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

The model is the embedded LLM's GGUF (Qwen2.5-Coder-1.5B-Instruct) in a small llama.cpp context
of its own: llama.cpp memory-maps the weights, so the second context costs its KV cache and
buffers, not another copy of the model, and never disturbs the reply's cached prompt. The fixed
prompt up to the person's words is read once; a call reads only the tokens that differ from the
last call's, so the partial transcripts read while the person talks leave the pause only its last
words (~25 ms a token on one core here).
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
_AFTER_END = set("?!\"'\u201d\u2019) \n")


def spoken_words(text: str) -> str:
    """The transcript as speech carries it: lower case, no punctuation, its last `_MAX_WORDS` words."""
    return " ".join(_NOT_WORDS.sub(" ", text.lower()).split()[-_MAX_WORDS:])


class SentenceEnd:
    """One llama.cpp context shared by every voice session (calls are serialised by a lock)."""

    def __init__(self, model_path: Path, threads: int = 1) -> None:
        if not Path(model_path).is_file():
            raise FileNotFoundError(f"GGUF not found at {model_path}; run the setup step (models.llm prepare_embedded)")
        from llama_cpp import Llama

        self.model_path = Path(model_path)
        with GGUF_LOADING:
            self._llama = Llama(model_path=str(model_path), n_ctx=_N_CTX, n_batch=64, n_threads=threads,
                                n_threads_batch=threads, verbose=False)
        self._lock = threading.Lock()
        self._prefix, message_end = self._prompt_parts()
        self._ends = np.array(sorted(set(_sentence_end_tokens(self._llama)) | {message_end}))
        self._llama.eval(self._prefix)
        self._last: tuple[list[int], float] | None = None

    def probability(self, text: str) -> float:
        """Probability that the sentence ends after `text` (a transcript); 0 for no words."""
        words = spoken_words(text)
        if not words:
            return 0.0
        llama = self._llama
        with self._lock:
            tokens = self._prefix + llama.tokenize(words.encode("utf-8"), add_bos=False, special=False)
            if self._last is not None and self._last[0] == tokens:
                return self._last[1]
            # Read from the first token that differs; at least the last one, whose logits are needed.
            start = min(common_prefix(llama.input_ids[: llama.n_tokens], tokens), len(tokens) - 1)
            llama.n_tokens = start  # `eval` drops the cache past this point first
            llama.eval(tokens[start:])
            logits = _last_logits(llama)
            p = np.exp(logits - logits.max())
            probability = float(p[self._ends].sum() / p.sum())
            self._last = (tokens, probability)
        return probability

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


def _last_logits(llama: Any) -> np.ndarray:
    """The next-token logits after the last token read (the context keeps only the last row)."""
    from llama_cpp import llama_get_logits_ith

    row = llama_get_logits_ith(llama.ctx, -1)
    return np.ctypeslib.as_array(row, shape=(llama.n_vocab(),)).astype(np.float64)
