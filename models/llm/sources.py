"""Where each profile's GGUF comes from."""

from __future__ import annotations

from pathlib import Path

from typing import Any

from models.hub import hub_file
from models.llm.options import LlmOptions
from models.llm.prepare import embedded_model_path

FULL_MODELS: dict[str, tuple[str, str, bool]] = {
    # name: (Hub repo, GGUF file, template has a system role)
    "mistral-7b-instruct": ("TheBloke/Mistral-7B-Instruct-v0.2-GGUF", "mistral-7b-instruct-v0.2.Q4_K_M.gguf", False),
    "llama-3-8b-instruct": ("bartowski/Meta-Llama-3-8B-Instruct-GGUF", "Meta-Llama-3-8B-Instruct-Q4_K_M.gguf", True),
}
DEFAULT_FULL_MODEL = "mistral-7b-instruct"


def embedded_options(weights: Path) -> LlmOptions:
    """Qwen2.5-Coder-1.5B-Instruct Q4_K_M on the CPU (assembled by prepare_embedded); see LlmOptions.threads."""
    return LlmOptions(model_path=embedded_model_path(weights))


def full_options(weights: Path, model: str = DEFAULT_FULL_MODEL) -> LlmOptions:
    """A 7-8B instruct model, Q4_K_M, every layer on the GPU; Llama-3-8B-Instruct is the upgrade."""
    repo, filename, system_role = FULL_MODELS[_known(model)]
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


def options_for(profile: str, weights: Path, overrides: dict[str, Any]) -> LlmOptions:
    """The profile's LLM with the user's overrides; `{"model": NAME}` picks a model of FULL_MODELS by
    name (in either profile: the embedded one then reads it from the Hub's cache, or downloads it
    where the Hub is allowed)."""
    rest = dict(overrides)
    name = rest.pop("model", None)
    if name is not None:
        base = full_options(weights, name)
    else:
        base = full_options(weights) if profile == "full" else embedded_options(weights)
    return LlmOptions.model_validate({**base.model_dump(), **rest})


def prepare_full(weights: Path, model: str = DEFAULT_FULL_MODEL) -> None:
    """Fetch the named full-profile GGUF into the cache `full_options` loads it from."""
    repo, filename, _ = FULL_MODELS[_known(model)]
    hub_file(repo, filename, cache_dir=weights / "hf")


def _known(model: str) -> str:
    if model not in FULL_MODELS:
        raise ValueError(f"unknown LLM {model!r}; named models: {', '.join(FULL_MODELS)}")
    return model
