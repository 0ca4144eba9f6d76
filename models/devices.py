"""Where a torch model of the full profile runs: CUDA when asked for and there, else the CPU.

The lifting, video and XTTS families each load a torch model that should run on the GPU; without
one (or when moving it there fails: no CUDA build, out of memory) it runs on the CPU, slower but
right, and the family says why in /health. torch is imported only by those families.
"""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger(__name__)


def resolve_device(name: str) -> Any:
    """`auto`: CUDA when torch sees a GPU, else the CPU; anything else as torch names it (torch.device)."""
    import torch

    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def place(module: Any, requested: str, family: str) -> tuple[Any, str | None]:
    """Move `module` to the `requested` device, or to the CPU when that fails; returns the device it
    is on and why it is not where it was asked to be (None: it is)."""
    import torch

    device = resolve_device(requested)
    try:
        module.to(device)
    except Exception as exc:  # AssertionError (torch without CUDA), torch.OutOfMemoryError, RuntimeError
        if device.type == "cpu":
            raise
        reason = f"{device} unavailable ({type(exc).__name__}: {str(exc)[:200]})"
        log.warning("%s: %s; running on the CPU", family, reason)
        device = torch.device("cpu")
        module.to(device)
        return device, reason
    return device, None
