"""Where weights and caches live.

Every cache a library would put under the user's home (onnxruntime, Ultralytics, Hugging Face,
assembled GGUF files) is pointed in here, so a checkout is self-contained and nothing depends on
who runs it.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def weights_dir() -> Path:
    """The models directory that setup fills (`COACH_MODELS_DIR`, default `models/weights`)."""
    path = Path(os.environ.get("COACH_MODELS_DIR", REPO_ROOT / "models" / "weights"))
    path.mkdir(parents=True, exist_ok=True)
    return path


_pinned = False


def pin_caches(offline: bool = True) -> None:
    """Point third-party caches into the models directory; keep the hubs offline unless told not to.

    The embedded profile never downloads at run time, so its processes pass `offline=True` (the
    default). The full profile fetches from the Hugging Face Hub through the libraries' own caches,
    which all live under the models directory either way. An `HF_HUB_OFFLINE` the user set wins, and
    so does a process's first call: a family's loader calling this again later changes nothing.
    Call it before anything imports huggingface_hub: the library reads these variables once, at import.
    """
    global _pinned
    if _pinned:
        return
    _pinned = True
    root = weights_dir()
    os.environ.setdefault("HF_HOME", str(root / "hf"))
    if offline:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("YOLO_CONFIG_DIR", str(root / "ultralytics"))
    os.environ.setdefault("XDG_CACHE_HOME", str(root / "cache"))
    os.environ.setdefault("TORCH_HOME", str(root / "torch"))


def hub_offline() -> bool:
    """Whether this process may not reach the Hugging Face Hub (as huggingface_hub reads it)."""
    return os.environ.get("HF_HUB_OFFLINE", "").lower() in {"1", "true", "yes", "on"}
