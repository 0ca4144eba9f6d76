"""Which real files the learned model may train on, and which are held out for its measured figures.

A file is held out by a hash of its name, so the split is stable across machines and runs and
needs no list. Files of one recorded video stay together (the name is the video). Countix-Fitness
and RepCount-A share a few videos under other names; that leak is small and said in the model card.
Videos (WorkoutTracker, PushFit clips) are never trained on: their figures come from the pose
model we ship, which the training data did not see.
"""

from __future__ import annotations

import hashlib

HELD_OUT_PERCENT = 30


def is_held_out(name: str) -> bool:
    """True for the ~30% of file stems held out from training."""
    digest = hashlib.sha256(name.encode()).digest()
    return int.from_bytes(digest[:4], "big") % 100 < HELD_OUT_PERCENT
