"""Where the BLIP-2 weights come from: a local directory, or a Hub id through the Hugging Face cache."""

from __future__ import annotations

from pathlib import Path

from models.caption.options import CaptionOptions
from models.hub import HubUnavailable, hub_snapshot

HUB_FILES = ["*.json", "*.safetensors", "spiece.model"]
"""What the model needs from a BLIP-2 Hub repo: configs and the shard index, the safetensors shards,
the processor and tokenizer files. The repos also carry the same weights as PyTorch .bin shards,
which would double the download."""


def model_directory(options: CaptionOptions) -> Path:
    """The local directory holding `options.model`; RuntimeError (with what to run) when there is none.

    A name that looks like a path (absolute, or starting with . or ~) must be an existing directory;
    anything else is a Hub id, answered from the cache when the Hub is offline.
    """
    path = Path(options.model).expanduser()
    if path.is_dir():
        return path
    if path.is_absolute() or options.model.startswith((".", "~")) or path.exists():
        raise RuntimeError(f"BLIP-2 model directory {path} does not exist or is not a directory")
    try:
        return hub_snapshot(options.model, allow_patterns=HUB_FILES, cache_dir=options.cache_dir)
    except HubUnavailable as exc:
        raise RuntimeError(f"BLIP-2 weights {options.model!r} are not available: {exc}") from exc
