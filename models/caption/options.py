"""Typed options for the caption family: which BLIP-2 to load, where, and how often to ask it."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

BLIP2_FLAN_T5_XL = "Salesforce/blip2-flan-t5-xl"

CAPTION_PROMPT = "Question: what is the person doing, what are they holding and where are they? Answer:"
"""BLIP-2's documented VQA form ("Question: ... Answer:"), which the flan-t5 variants were evaluated
with. One question that names the three things the coach can use (activity, equipment, place), so the
answer reads as a caption ("a man lifting dumbbells in a living room") rather than a bare label."""


class CaptionOptions(BaseModel):
    """BLIP-2 model, placement and generation settings for the scene caption fact."""

    model: str = Field(
        BLIP2_FLAN_T5_XL,
        description="A Hub id (resolved through the Hugging Face cache that `prepare_full` fills) or a local "
        "directory holding the model and its processor (`save_pretrained` of both).",
    )
    device: str = Field(
        "auto",
        pattern=r"^(auto|cpu|cuda(:\d+)?)$",
        description="auto: CUDA when available, else the CPU; or cpu, cuda, cuda:1 ... A CUDA device that is "
        "absent, or runs out of memory while loading, falls back to the CPU (logged and recorded).",
    )
    quantization: Literal["auto", "4bit", "8bit", "none"] = Field(
        "auto",
        description="CUDA only (the CPU always runs fp32). auto: 4-bit NF4 through bitsandbytes when it and "
        "accelerate import (blip2-flan-t5-xl's 3.9 B parameters: about 3 GB of weights instead of 8 GB in "
        "fp16, estimated, not measured), else fp16; 4bit / 8bit: bitsandbytes, an error without it; none: fp16.",
    )
    cache_dir: Path | None = Field(
        None, description="Hugging Face hub cache for a Hub id; None: the default that `pin_caches` points "
        "under the models directory (<models dir>/hf/hub)."
    )
    prompt: str = Field(CAPTION_PROMPT, description="Text the answer is conditioned on; '' captions unprompted.")
    max_new_tokens: int = Field(
        30, ge=1, le=128, description="Answer length cap: one short sentence is 10-20 T5 tokens."
    )
    num_beams: int = Field(
        1, ge=1, le=8, description="1: greedy, the cheapest; beams cost one decoder pass each per token."
    )
    every_s: float = Field(
        5.0, gt=0, description="Seconds between captions in the live loop: a scene changes slowly, and each "
        "caption takes the GPU from pose inference for a moment."
    )
    threads: int | None = Field(
        None,
        ge=1,
        description="CPU only: torch intra-op threads, a process-wide setting (the embedder sets it too). "
        "None leaves it as it is.",
    )


def full_options(weights: Path) -> CaptionOptions:
    """blip2-flan-t5-xl from the Hub cache under `weights` (filled by `prepare_full`), on CUDA when present."""
    return CaptionOptions(cache_dir=weights / "hf" / "hub")
