"""Where each profile's GGUF comes from."""

from __future__ import annotations

from pathlib import Path

from models.llm.options import LlmOptions
from models.llm.prepare import embedded_model_path

FULL_MODELS: dict[str, tuple[str, str, bool]] = {
    # name: (Hub repo, GGUF file, template has a system role)
    "mistral-7b-instruct": ("TheBloke/Mistral-7B-Instruct-v0.2-GGUF", "mistral-7b-instruct-v0.2.Q4_K_M.gguf", False),
    "llama-3-8b-instruct": ("bartowski/Meta-Llama-3-8B-Instruct-GGUF", "Meta-Llama-3-8B-Instruct-Q4_K_M.gguf", True),
}


def embedded_options(weights: Path) -> LlmOptions:
    """Qwen2.5-Coder-1.5B-Instruct Q4_K_M on the CPU (assembled by prepare_embedded); see LlmOptions.threads."""
    return LlmOptions(model_path=embedded_model_path(weights))


def full_options(weights: Path, model: str = "mistral-7b-instruct") -> LlmOptions:
    """A 7-8B instruct model, Q4_K_M, every layer on the GPU; Llama-3-8B-Instruct is the upgrade."""
    repo, filename, system_role = FULL_MODELS[model]
    return LlmOptions(
        hub_repo=repo,
        hub_filename=filename,
        cache_dir=weights / "hf",
        n_ctx=8192,
        n_gpu_layers=-1,
        threads=4,
        threads_batch=8,
        system_role=system_role,
    )
