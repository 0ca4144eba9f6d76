"""Reading a MotionBERT checkpoint into a DSTformer, strictly, with errors that say what is wrong.

The published files are what `train.py` saves: a dict with the network under `model_pos` (keys
prefixed `module.` by nn.DataParallel) beside the epoch, learning rate, optimiser state and
`min_loss`. They load with `weights_only=True` (no code runs from the file) once numpy's scalar
type is allowed: `min_loss` of a fine-tuned file is a numpy float64, pickled by numpy 1.x under
`numpy.core.multiarray.scalar`.
"""

from __future__ import annotations

import pickle
import zipfile
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import torch
from numpy._core.multiarray import scalar as _numpy_scalar

from models.lifting.dstformer import DSTformer
from models.lifting.options import HUB_FILENAME, HUB_REPO, ONEDRIVE_URL

_NUMPY_SCALARS = [
    (_numpy_scalar, "numpy.core.multiarray.scalar"),  # as numpy 1.x wrote it
    _numpy_scalar,  # as numpy 2 writes it
    np.dtype,
    np.dtypes.Float64DType,
]
_SHOWN = 5  # keys named per kind of mismatch


class LiftingModelUnavailable(RuntimeError):
    """The MotionBERT weights are missing, unreadable or not for this network (the lead shows it as unavailable)."""


def read_state_dict(path: Path) -> dict[str, torch.Tensor]:
    """The network weights of a MotionBERT checkpoint file, on the CPU, without the `module.` prefix."""
    if not path.is_file():
        raise LiftingModelUnavailable(
            f"no MotionBERT checkpoint at {path}: run `python -m models.prepare --profile full` where the Hub "
            f"can be reached (it fetches {HUB_REPO}/{HUB_FILENAME}), or download best_epoch.bin from "
            f"{ONEDRIVE_URL} and put it there"
        )
    try:
        with torch.serialization.safe_globals(_NUMPY_SCALARS):
            checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, zipfile.BadZipFile, RuntimeError, EOFError, OSError, ValueError) as error:
        raise LiftingModelUnavailable(
            f"{path} is not a readable torch checkpoint (corrupt or truncated download?): "
            f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"
        ) from error
    state = checkpoint.get("model_pos") if isinstance(checkpoint, Mapping) else None
    if not isinstance(state, Mapping):
        found = sorted(checkpoint) if isinstance(checkpoint, Mapping) else type(checkpoint).__name__
        raise LiftingModelUnavailable(f"{path} has no 'model_pos' network weights (found: {found})")
    return {key.removeprefix("module."): value for key, value in state.items()}


def load_weights(model: DSTformer, path: Path) -> DSTformer:
    """Load `path` into `model` strictly; on any missing, unexpected or reshaped key, say which."""
    state = read_state_dict(path)
    expected = model.state_dict()
    missing = [key for key in expected if key not in state]
    unexpected = [key for key in state if key not in expected]
    reshaped = [
        f"{key} {tuple(state[key].shape)} in the file, {tuple(value.shape)} in the model"
        for key, value in expected.items()
        if key in state and state[key].shape != value.shape
    ]
    if missing or unexpected or reshaped:
        problems = [
            f"{len(items)} {kind}: {', '.join(items[:_SHOWN])}{' ...' if len(items) > _SHOWN else ''}"
            for kind, items in (("missing", missing), ("unexpected", unexpected), ("of another shape", reshaped))
            if items
        ]
        raise LiftingModelUnavailable(
            f"{path} does not fit this DSTformer ({model.config.depth} blocks, dim_feat {model.config.dim_feat}, "
            f"dim_rep {model.config.dim_rep}, maxlen {model.config.maxlen}); keys {'; '.join(problems)}"
        )
    model.load_state_dict(state, strict=True)
    return model
