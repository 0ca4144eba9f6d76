"""Tiny llama.cpp models with random weights, written here, for tests and the CUDA check.

No GGUF but the embedded Qwen can be had offline, so the full profile's chat template (Mistral's)
and Mistral-7B's shape are checked on models built from their hyper-parameters: random weights
give random text, but the same shapes cost the same time, and template handling depends only on
the template.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np

# Mistral-7B-Instruct-v0.2's chat template (tokenizer_config.json), which llama-cpp-python maps to
# its hard-coded "mistral-instruct" formatter; the "jinja" variant renders the same text but is
# not recognised, so llama-cpp-python renders it with Jinja like `LlamaCppChat.prefill` does.
MISTRAL_TEMPLATE = (
    "{{ bos_token }}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
    "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}"
    "{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}"
    "{% elif message['role'] == 'assistant' %}{{ message['content'] + eos_token + ' ' }}"
    "{% else %}{{ raise_exception('Only user and assistant roles are supported!') }}{% endif %}{% endfor %}"
)
TEMPLATES = {"mistral": MISTRAL_TEMPLATE, "jinja": MISTRAL_TEMPLATE.replace("{{ bos_token }}", "{{- bos_token }}", 1)}

SHAPES: dict[str, dict[str, Any]] = {
    # n_embd, layers, heads, kv heads, ffn, vocab, weight type
    "tiny": {"n_embd": 256, "n_layer": 4, "n_head": 4, "n_head_kv": 2, "n_ff": 768, "n_vocab": 32000, "wtype": "F16"},
    "m7b": {"n_embd": 4096, "n_layer": 32, "n_head": 32, "n_head_kv": 8, "n_ff": 14336, "n_vocab": 32000, "wtype": "Q4_K"},
}


def _vocab(n_vocab: int, texts: list[str]) -> tuple[list[str], list[float], list[int]]:
    """A SentencePiece-style ("llama") vocab: specials, the 256 byte tokens, characters, then every
    prefix of the words in `texts` (with and without the word-start mark), padded to n_vocab."""
    tokens, types = ["<unk>", "<s>", "</s>"], [2, 3, 3]
    tokens += [f"<0x{b:02X}>" for b in range(256)]
    types += [6] * 256
    seen = set(tokens)

    def add(token: str) -> None:
        if token not in seen and len(tokens) < n_vocab:
            seen.add(token)
            tokens.append(token)
            types.append(1)

    add("\u2581")
    for c in "".join(chr(i) for i in range(33, 127)):
        add(c)
    words: dict[str, int] = {}
    for text in texts:
        for word in re.findall(r"[A-Za-z]+|\d+", text):
            words[word] = words.get(word, 0) + 1
    for word in sorted(words, key=lambda w: -words[w]):
        for k in range(1, len(word) + 1):
            add("\u2581" + word[:k])
            add(word[:k])
    i = 0
    while len(tokens) < n_vocab:
        add(f"\u2581tok{i}")
        i += 1
    scores = [0.0] * 259 + [-float(j) for j in range(n_vocab - 259)]
    return tokens, scores, types


def _random_q4_k(rng: Any, rows: int, cols: int) -> Any:
    """Q4_K blocks (144 bytes per 256 weights) of random bits with small, finite scales."""
    blocks = rng.integers(0, 256, size=(rows, cols // 256, 144), dtype=np.uint8)
    blocks[..., 0:2] = np.frombuffer(np.float16(8e-5).tobytes(), np.uint8)  # d
    blocks[..., 2:4] = np.frombuffer(np.float16(6e-4).tobytes(), np.uint8)  # dmin
    return blocks.reshape(rows, -1)


def _random_q6_k(rng: Any, rows: int, cols: int) -> Any:
    """Q6_K blocks (210 bytes per 256 weights, the scale d last)."""
    blocks = rng.integers(0, 256, size=(rows, cols // 256, 210), dtype=np.uint8)
    blocks[..., 208:210] = np.frombuffer(np.float16(1e-5).tobytes(), np.uint8)
    return blocks.reshape(rows, -1)


def make_gguf(path: Path, shape: str, template: str, texts: list[str]) -> Path:
    """A llama-architecture GGUF with random weights (Mistral-7B's hyper-parameters for "m7b"),
    whose vocabulary spells `texts` in few tokens. Needs the `gguf` package (dev extra)."""
    import gguf
    import numpy as np

    s = SHAPES[shape]
    n_embd, n_layer, n_head, n_kv, n_ff, n_vocab = (s[k] for k in ("n_embd", "n_layer", "n_head", "n_head_kv", "n_ff", "n_vocab"))
    head_dim = n_embd // n_head
    tokens, scores, types = _vocab(n_vocab, texts)

    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_name(f"cuda-check-{shape}-random")
    writer.add_context_length(32768)
    writer.add_embedding_length(n_embd)
    writer.add_block_count(n_layer)
    writer.add_feed_forward_length(n_ff)
    writer.add_rope_dimension_count(head_dim)
    writer.add_head_count(n_head)
    writer.add_head_count_kv(n_kv)
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_rope_freq_base(1e6)
    writer.add_file_type(gguf.LlamaFileType.MOSTLY_Q4_K_M if s["wtype"] == "Q4_K" else gguf.LlamaFileType.MOSTLY_F16)
    writer.add_tokenizer_model("llama")
    writer.add_token_list(tokens)
    writer.add_token_scores(scores)
    writer.add_token_types(types)
    writer.add_unk_token_id(0)
    writer.add_bos_token_id(1)
    writer.add_eos_token_id(2)
    writer.add_add_bos_token(True)
    writer.add_add_eos_token(False)
    writer.add_chat_template(TEMPLATES[template])

    rng = np.random.default_rng(0)
    ones = np.ones(n_embd, dtype=np.float32)
    cache: dict[tuple[int, int], Any] = {}

    def weight(rows: int, cols: int, kind: str = "") -> tuple[Any, Any]:
        if s["wtype"] == "F16":
            key = (rows, cols)
            if key not in cache:
                cache[key] = (rng.standard_normal((rows, cols), dtype=np.float32) * 0.02).astype(np.float16)
            return cache[key], None
        if kind == "Q6_K":
            return _random_q6_k(rng, rows, cols), gguf.GGMLQuantizationType.Q6_K
        key = (rows, cols)
        if key not in cache:  # one random array per shape, shared by the layers: speed is the same
            cache[key] = _random_q4_k(rng, rows, cols)
        return cache[key], gguf.GGMLQuantizationType.Q4_K

    def add(name: str, pair: tuple[Any, Any]) -> None:
        writer.add_tensor(name, pair[0], raw_dtype=pair[1])

    add("token_embd.weight", weight(n_vocab, n_embd))
    for i in range(n_layer):
        writer.add_tensor(f"blk.{i}.attn_norm.weight", ones)
        add(f"blk.{i}.attn_q.weight", weight(n_embd, n_embd))
        add(f"blk.{i}.attn_k.weight", weight(n_kv * head_dim, n_embd))
        add(f"blk.{i}.attn_v.weight", weight(n_kv * head_dim, n_embd))
        add(f"blk.{i}.attn_output.weight", weight(n_embd, n_embd))
        writer.add_tensor(f"blk.{i}.ffn_norm.weight", ones)
        add(f"blk.{i}.ffn_gate.weight", weight(n_ff, n_embd))
        add(f"blk.{i}.ffn_up.weight", weight(n_ff, n_embd))
        add(f"blk.{i}.ffn_down.weight", weight(n_embd, n_ff))
    writer.add_tensor("output_norm.weight", ones)
    add("output.weight", weight(n_vocab, n_embd, "Q6_K"))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file(progress=False)
    writer.close()
    return path
