"""Where BLIP-2 runs and at what precision, decided before anything is loaded.

The live server must come up on any machine: a CUDA device that is missing turns into the CPU with
the reason recorded (and shown by /health) instead of an error. Quantisation is a CUDA matter
(bitsandbytes' kernels); on the CPU the model runs fp32, and bitsandbytes is not even imported.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Literal

from models.caption.options import CaptionOptions

Precision = Literal["4bit", "8bit", "fp16", "fp32"]


@dataclass(frozen=True)
class Placement:
    """The device and precision chosen, and why they differ from what the options asked, if they do."""

    device: str
    precision: Precision
    fallback_reason: str | None = None


def cuda_available() -> bool:
    """Whether torch sees a CUDA device (a CPU build of torch never does)."""
    import torch

    return torch.cuda.is_available()


def bitsandbytes_problem() -> str | None:
    """None when bitsandbytes and accelerate (which transformers' bnb loader needs) import, else why not."""
    for name in ("bitsandbytes", "accelerate"):
        try:
            importlib.import_module(name)
        except Exception as exc:  # ImportError, or a CUDA runtime error raised while bitsandbytes loads
            return f"{name} does not import ({type(exc).__name__}: {exc})"
    return None


def resolve_placement(options: CaptionOptions) -> Placement:
    """The device and precision for `options` on this machine.

    Raises RuntimeError when 4bit or 8bit is asked for on CUDA and bitsandbytes cannot serve it: an
    explicit request is not silently turned into a model twice or four times as large.
    """
    if options.device == "cpu":
        return Placement("cpu", "fp32", _cpu_precision_note(options))
    if not cuda_available():
        why = None if options.device == "auto" else f"{options.device} asked for, but torch sees no CUDA device"
        note = _cpu_precision_note(options)
        return Placement("cpu", "fp32", "; ".join(part for part in (why, note) if part) or None)
    device = "cuda" if options.device == "auto" else options.device
    if options.quantization == "none":
        return Placement(device, "fp16")
    problem = bitsandbytes_problem()
    if options.quantization == "auto":
        if problem:
            return Placement(device, "fp16", f"4-bit quantisation unavailable, fp16 instead: {problem}")
        return Placement(device, "4bit")
    if problem:
        raise RuntimeError(f"quantization={options.quantization!r} needs bitsandbytes on CUDA: {problem}")
    return Placement(device, options.quantization)


def _cpu_precision_note(options: CaptionOptions) -> str | None:
    """Why an explicit 4bit / 8bit request was not honoured on the CPU."""
    if options.quantization in ("4bit", "8bit"):
        return f"quantization={options.quantization!r} is CUDA only; the CPU runs fp32"
    return None
