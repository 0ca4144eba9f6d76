"""Where XTTS-v2's weights come from: a local checkpoint directory, or the Hub repository
`coqui/XTTS-v2` through the Hugging Face cache; and the full profile's setup step that fetches them.

The checkpoint is 1.9 GB: fetching it when the server first speaks would stall the live loop for
minutes, and the serving process may keep the Hub offline. So setup downloads it, with progress
bars, into the cache under the models directory, where `XttsSynthesizer` finds it by repository id.
"""

from __future__ import annotations

from pathlib import Path

from models.hub import HubUnavailable, hub_snapshot
from models.tts.options import XttsOptions

CHECKPOINT_FILES = ("config.json", "model.pth", "vocab.json", "speakers_xtts.pth")
"""What coqui's `Xtts.load_checkpoint(config, checkpoint_dir=...)` reads. The Hub repository also
holds the DVAE and mel statistics used for training, and sample clips: not needed to speak."""

HUB_FILES = [*CHECKPOINT_FILES, "LICENSE.txt"]


def xtts_model_dir(options: XttsOptions) -> Path:
    """The checkpoint directory to load; RuntimeError naming what is missing and what to run."""
    if options.model_dir is not None:
        directory = options.model_dir.expanduser()
    else:
        try:
            directory = hub_snapshot(options.model_name, allow_patterns=HUB_FILES, cache_dir=options.cache_dir)
        except HubUnavailable as exc:
            raise RuntimeError(f"XTTS-v2 weights {options.model_name!r} are not available: {exc}") from exc
    missing = [name for name in CHECKPOINT_FILES if not (directory / name).is_file()]
    if missing:
        raise RuntimeError(f"XTTS-v2 checkpoint directory {directory} lacks {', '.join(missing)}")
    return directory


def prepare_full(weights: Path) -> None:
    """Download coqui/XTTS-v2 into <weights>/hf/hub (instant when cached). Fetching is not using:
    the licence is accepted where the model is loaded (`XttsOptions.accept_licence`).

    Raises `HubUnavailable` (a RuntimeError naming the command to run where the Hub can be reached)
    when the Hub cannot be reached and the files are not cached.
    """
    hub_snapshot(XttsOptions().model_name, allow_patterns=HUB_FILES, cache_dir=weights / "hf" / "hub")
