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


def pin_caches() -> None:
    """Point third-party caches into the models directory and keep hubs offline."""
    root = weights_dir()
    os.environ.setdefault("HF_HOME", str(root / "hf"))
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("YOLO_CONFIG_DIR", str(root / "ultralytics"))
    os.environ.setdefault("XDG_CACHE_HOME", str(root / "cache"))
