"""Small signal helpers shared by the rep timing, the rep counting and the fault rules."""

from __future__ import annotations

import numpy as np

MEDIAN_FRAMES = 5
# A shorter period whose repeat is this nearly as strong is the period. A fast set's reps alternate
# deeper and shallower, so it repeats best every two reps: at 0.9 a 0.6 s push-up set read as
# repeating every 1.2 s, and its reps as too short to count (docs/REAL_PEOPLE.md, 2026-12-07).
_FUNDAMENTAL_SHARE = 0.7


def median_filter(x: np.ndarray, width: int = MEDIAN_FRAMES) -> np.ndarray:
    """Running median (shorter windows at the edges): removes one-frame spikes, keeps plateaus."""
    x = np.asarray(x, dtype=float)
    if len(x) < 3:
        return x
    half = width // 2
    return np.array([np.median(x[max(0, i - half): i + half + 1]) for i in range(len(x))])


def periodicity(times: np.ndarray, values: np.ndarray, min_lag_s: float, max_lag_s: float,
                hz: float = 15.0) -> tuple[float, float | None]:
    """How strongly a stretch of signal repeats itself, and after how long.

    The normalised autocorrelation (1: the stretch repeats exactly, 0: not at all) at its
    strongest local peak between min_lag_s and max_lag_s, and the period in seconds: the shortest
    lag whose peak is nearly as strong (a signal that repeats every 0.6 s also repeats every
    1.2 s, about as well); None without a peak. Samples may come at any rate (a pose model's
    frames do not come evenly): they are put on an `hz` grid first.
    """
    times, values = np.asarray(times, dtype=float), np.asarray(values, dtype=float)
    if len(times) < 4 or times[-1] - times[0] < 2 * min_lag_s:
        return 0.0, None
    grid = np.arange(times[0], times[-1], 1.0 / hz)
    x = np.interp(grid, times, values)
    x -= x.mean()
    lo, hi = max(1, int(min_lag_s * hz)), min(int(max_lag_s * hz), len(x) // 2)
    if hi <= lo + 1:
        return 0.0, None
    r = np.zeros(hi - lo + 1)
    for i, lag in enumerate(range(lo, hi + 1)):
        a, b = x[:-lag], x[lag:]
        norm = float(np.sqrt((a * a).sum() * (b * b).sum()))
        r[i] = float((a * b).sum()) / norm if norm > 1e-12 else 0.0
    peaks = np.flatnonzero((r[1:-1] >= r[:-2]) & (r[1:-1] >= r[2:])) + 1
    if not len(peaks):
        return 0.0, None
    strongest = float(r[peaks].max())
    if strongest <= 0.0:
        return 0.0, None
    first = peaks[np.flatnonzero(r[peaks] >= _FUNDAMENTAL_SHARE * strongest)[0]]
    return strongest, (lo + first) / hz
