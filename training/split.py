"""Which real files the learned model may train on, and which are held out for its measured figures.

A file is held out by a hash of its name, so the split is stable across machines and runs and
needs no list. Files of one recorded video stay together (the name is the video). Countix-Fitness
and RepCount-A share a few videos under other names; that leak is small and said in the model card.
A video (WorkoutTracker, PushFit clips) goes with the PushFit MoveNet keypoints of the same clip,
so a clip is on one side whichever pose model read it; a video without such keypoints is always
held out (the WorkoutTracker squats: too few to spare any).
"""

from __future__ import annotations

import hashlib

HELD_OUT_PERCENT = 30


def is_held_out(name: str) -> bool:
    """True for the ~30% of file stems held out from training."""
    digest = hashlib.sha256(name.encode()).digest()
    return int.from_bytes(digest[:4], "big") % 100 < HELD_OUT_PERCENT


def video_is_held_out(keypoints_twin: str | None) -> bool:
    """A video is held out with the MoveNet keypoint file of the same clip (its stem, or None:
    there is none, and the video is held out)."""
    return True if keypoints_twin is None else is_held_out(keypoints_twin)
