"""Setup step for the lifting family: fetch the MotionBERT-Lite checkpoint and check it loads.

The authors publish their weights on OneDrive and mirror them on the Hugging Face Hub
(walterzhu/MotionBERT); setup takes the Hub copy at a pinned commit through huggingface_hub, into
<models dir>/lifting/ under its path in the repository, where `LiftingOptions.checkpoint_path`
looks. It is never downloaded at run time.
"""

from __future__ import annotations

from pathlib import Path

from models.lifting.checkpoint import LiftingModelUnavailable, load_weights
from models.lifting.dstformer import DSTformer
from models.lifting.options import ONEDRIVE_URL, LiftingOptions


def lifting_dir(weights: Path) -> Path:
    """Where the lifting family keeps its checkpoint under the models directory."""
    return weights / "lifting"


def prepare_full(weights: Path) -> None:
    """Download the MotionBERT-Lite pose checkpoint (about 61 MB) unless present, then load it once.

    Needs the Hub; without it, says where to put the file by hand. A file that does not load into
    MotionBERT-Lite is removed, so the next run fetches it again.
    """
    options = LiftingOptions()
    target = options.checkpoint_path(weights)
    if not target.is_file():
        from huggingface_hub import hf_hub_download

        try:
            hf_hub_download(
                options.hub_repo, options.hub_filename, revision=options.hub_revision, local_dir=lifting_dir(weights)
            )
        except Exception as error:  # the library raises many kinds: connection, offline, missing file
            raise LiftingModelUnavailable(
                f"cannot download {options.hub_repo}/{options.hub_filename} ({type(error).__name__}: {error}). "
                f"Download best_epoch.bin from {ONEDRIVE_URL} (pose3d/FT_MB_lite_MB_ft_h36m_global_lite) "
                f"and put it at {target}"
            ) from error
    try:
        load_weights(DSTformer.lite(), target)
    except LiftingModelUnavailable:
        target.unlink()
        raise
