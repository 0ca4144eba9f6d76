"""Small signal helpers shared by the rep timing and the fault rules."""

from __future__ import annotations

import numpy as np

MEDIAN_FRAMES = 5


def median_filter(x: np.ndarray, width: int = MEDIAN_FRAMES) -> np.ndarray:
    """Running median (shorter windows at the edges): removes one-frame spikes, keeps plateaus."""
    x = np.asarray(x, dtype=float)
    if len(x) < 3:
        return x
    half = width // 2
    return np.array([np.median(x[max(0, i - half): i + half + 1]) for i in range(len(x))])
