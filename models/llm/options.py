"""Generation settings for the chat backends, with defaults sized for spoken answers on 2 cores."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field


class GenerationOptions(BaseModel):
    """What every backend obeys: a spoken answer is short, and a late answer is a wrong answer."""

    max_tokens: int = Field(160, description="Cap per reply (~100 spoken words; 7 s at 24 tok/s here).")
    time_cap_s: float = Field(20.0, description="Wall-clock cap per reply, prompt included.")
    temperature: float = Field(0.3, description="Low: answers restate measured facts, no creativity needed.")
    top_p: float = 0.9
    seed: int | None = Field(None, description="Fixed seed for reproducible sampling; None draws one.")


class LlmOptions(GenerationOptions):
    """llama.cpp model source and runtime.

    Give either `model_path` (a local GGUF) or `hub_repo` + `hub_filename` (downloaded through
    `Llama.from_pretrained` into `cache_dir`).
    """

    model_path: Path | None = None
    hub_repo: str | None = None
    hub_filename: str | None = None
    cache_dir: Path | None = Field(None, description="Where Hub downloads go (models/weights/hf).")
    n_ctx: int = Field(4096, description="Context: system prompt + facts + retrieved passages + history.")
    threads: int = Field(
        1,
        description="Generation threads. 1 on the 2-core box: llama.cpp's OpenMP threads wait for each other at "
        "every step, so with 2 threads and the other core busy (pose inference, ASR) generation fell from "
        "25 to 1-5 tok/s here, while 1 thread held 15 tok/s (faster than speech). Use 2+ on idle machines.",
    )
    threads_batch: int = Field(
        1,
        description="Prompt-processing threads; 1 for the same reason (busy core: cold 390-token prompt 8 s with 1 "
        "thread vs 15-17 s with 2; idle: 9 s vs 4.7 s). Read the fixed prefix at start-up, and each turn while the person talks (`LlamaCppChat.prefill`).",
    )
    threads_batch_spare: int = Field(
        2,
        description="Prompt-processing threads when the caller says a core is spare (the voice loop, while "
        "analysis is paused or throttled for it): 2.14 s vs 2.53 s median voice-to-voice here.",
    )
    n_gpu_layers: int = Field(0, description="-1 offloads every layer (CUDA builds).")
    top_k: int = 40
    repeat_penalty: float = 1.1
    no_brackets: bool = Field(
        True,
        description="Never sample a token that starts with '[': a spoken answer has no brackets, and the small "
        "model otherwise now and then opens its answer by copying a note's id ('[rest-between-sets] ...'), "
        "~0.4 s of generation before the first spoken word. Costs ~1 ms a token.",
    )
    system_role: bool = Field(
        True,
        description="False for chat templates without a system role (Mistral): the system text is folded "
        "into the first user turn, which keeps it a stable prefix for the KV cache.",
    )


class RemoteChatOptions(GenerationOptions):
    """An OpenAI-compatible server (vLLM, llama.cpp server, Ollama, OpenAI ...)."""

    base_url: str = Field(..., description="e.g. http://127.0.0.1:8000/v1")
    model: str = Field(..., description="Model name the server expects.")
    api_key: str | None = None
    connect_timeout_s: float = 5.0
    read_timeout_s: float = Field(30.0, description="Longest wait for the next streamed token.")
