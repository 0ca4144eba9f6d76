"""Setup step for the video family (full profile): fetch the Video Swin checkpoint.

`prepare_full(weights)` downloads torchvision's Kinetics-400 weights into <models dir>/video/ with
a progress bar, checks the SHA-256 prefix in the file name, and loads the file once so a bad one
fails here, at setup, not in the live loop. Nothing downloads at run time. The head is not
fetched: scripts/train_video_head.py fits it.
"""

from __future__ import annotations

from pathlib import Path
from urllib.error import URLError

from torch.hub import download_url_to_file

from models.video.checkpoint import (
    CHECKPOINT_URLS,
    VideoModelUnavailable,
    checkpoint_path,
    hash_prefix,
    load_backbone,
    verify_hash,
)


def prepare_full(weights: Path, arch: str = "swin3d_t") -> None:
    """Put the `arch` checkpoint at <weights>/video/<its torchvision name>, verified; instant when there.

    A file already there that fails the hash check is fetched again. Raises VideoModelUnavailable
    where it cannot be downloaded or does not load.
    """
    target = checkpoint_path(arch, weights)
    if target.exists():
        try:
            verify_hash(target)
            return
        except VideoModelUnavailable:
            target.unlink()
    target.parent.mkdir(parents=True, exist_ok=True)
    url = CHECKPOINT_URLS[arch]
    try:
        # Writes to a temporary file beside the target, checks the hash prefix, then renames.
        download_url_to_file(url, str(target), hash_prefix=hash_prefix(target), progress=True)
    except (URLError, OSError) as error:
        raise VideoModelUnavailable(f"cannot download {url} ({error})") from error
    except RuntimeError as error:  # the hash check's failure
        raise VideoModelUnavailable(f"{url} arrived corrupt ({error})") from error
    load_backbone(target, arch)

