"""Setup step for the caption family (full profile): fetch BLIP-2 ahead of time.

blip2-flan-t5-xl is 15.8 GB of fp32 safetensors; fetched when the server loads the family, the
first sessions would go without captions for minutes (and a server run with COACH_HUB_OFFLINE
would have none). So setup downloads it, with progress bars, into the Hugging Face cache under the
models directory, where `Blip2Captioner(full_options(weights))` finds it by Hub id.
"""

from __future__ import annotations

from pathlib import Path

from models.caption.options import BLIP2_FLAN_T5_XL, full_options
from models.caption.sources import HUB_FILES
from models.hub import hub_snapshot


def prepare_full(weights: Path) -> None:
    """Download blip2-flan-t5-xl into <weights>/hf/hub; instant when it is cached.

    Raises `HubUnavailable` (a RuntimeError naming the command to run where the Hub can be reached)
    when the Hub cannot be reached and the files are not cached.
    """
    hub_snapshot(BLIP2_FLAN_T5_XL, allow_patterns=HUB_FILES, cache_dir=full_options(weights).cache_dir)
