"""Fetching weights from the Hugging Face Hub for the full profile, with one clear error when it cannot.

Downloads go through huggingface_hub's own cache (under the models directory: `pin_caches`), so a
family that loads by Hub id finds what `python -m models.prepare --profile full` fetched, and with
`HF_HUB_OFFLINE=1` the same calls answer from the cache alone.
"""

from __future__ import annotations

from pathlib import Path

from models.paths import hub_offline


class HubUnavailable(RuntimeError):
    """A model the Hub should provide could not be had: no network, offline and not cached, no such file."""


def hub_error(what: str, exc: Exception) -> HubUnavailable:
    """The error to raise when `what` could not be fetched: where it was looked for, and what to run."""
    where = "the cache (the Hub is offline: HF_HUB_OFFLINE=1)" if hub_offline() else "the Hugging Face Hub"
    return HubUnavailable(f"cannot fetch {what} from {where}: {type(exc).__name__}: {exc}. "
                          "Fetch it where the Hub can be reached: python -m models.prepare --profile full")


def hub_snapshot(repo_id: str, allow_patterns: list[str] | None = None, cache_dir: Path | None = None) -> Path:
    """The local directory of `repo_id` (downloaded with progress bars unless cached)."""
    from huggingface_hub import snapshot_download

    try:
        return Path(snapshot_download(repo_id, allow_patterns=allow_patterns,
                                      cache_dir=None if cache_dir is None else str(cache_dir)))
    except Exception as exc:  # the library raises many kinds: connection, offline, gated, missing
        raise hub_error(repo_id, exc) from exc


def hub_file(repo_id: str, filename: str, cache_dir: Path | None = None) -> Path:
    """The local path of one file of `repo_id` (downloaded unless cached)."""
    from huggingface_hub import hf_hub_download

    try:
        return Path(hf_hub_download(repo_id, filename, cache_dir=None if cache_dir is None else str(cache_dir)))
    except Exception as exc:
        raise hub_error(f"{repo_id}/{filename}", exc) from exc
