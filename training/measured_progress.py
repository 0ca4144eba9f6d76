"""Rep progress targets for real counted sets, read from the exercise's own measure.

The real sequences come with a rep count but no per-frame progress: without this, the network
learns its progress from generated sequences and single frames held still, and on real people it
swings less, or twice a rep. Their rep marks do not say where the start position is
(training/dataset.py). The exercise's own measure does: the knee angle, hand height or hip
height its phase drivers read (coaching/exercises) moves between the start position and the
turning point in every view the driver allows. Scaled between the set's own 5th and 95th
percentiles and turned so that 1 is the turning point, it is a progress target, but only where it
can be trusted: the set keeps it when the measure's peaks count the labelled reps within 10%;
otherwise the set teaches its class only.

Used by `scripts/train_skeleton.py` (on unless `--no-measured-progress`). Tried on 2026-12-06 with
one row of progress for every class and not shipped then (the reps counted better, recognition and
the single-frame phase read worse); shipped on 2026-12-07 with a row per class, where each real
set teaches only its own exercise's row (docs/REAL_PEOPLE.md).
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import median_filter, uniform_filter1d
from scipy.signal import find_peaks

from coaching.exercises import EXERCISES
from coaching.geometry import Pose
from coaching.measures import measure_all
from training.real_data import KeypointFile, as_pixels

MIN_SEEN = 0.7  # the measure must be readable on this share of the frames
PROMINENCE = 0.35  # a rep's peak stands this much of the set's 5-95 percentile range above its troughs
MIN_REP_S = 0.4  # peaks closer than this are one rep
COUNT_TOLERANCE = 0.1  # the peaks may miss the labelled count by this share of it (rounded down)
SMOOTH_FRAMES = 5  # a running median, then a running mean, over this many frames


def measured_progress(kf: KeypointFile) -> np.ndarray | None:
    """(T,) progress target for a counted keypoint sequence; None when it has none (see
    progress_from_measure)."""
    if kf.rep_count is None:
        return None
    keypoints, width, height = as_pixels(kf)
    return progress_from_measure(keypoints, width, height, kf.exercise.removeprefix("other:"),
                                 kf.rep_count, kf.frame_rate)


def progress_from_measure(keypoints: np.ndarray, width: int, height: int, exercise: str, rep_count: int,
                          fps: float) -> np.ndarray | None:
    """(T,) progress, 0 at the start position and 1 at the turning point, NaN where nobody is in
    the frame: the first of the exercise's drivers whose measure counts `rep_count` best, within
    COUNT_TOLERANCE. None for an exercise the coach does not know, for a clip with no rep (nothing
    to scale to: its jitter would become whole reps), or when no driver counts it."""
    spec = EXERCISES.get(exercise)
    if spec is None or rep_count < 1:
        return None
    best: tuple[int, np.ndarray] | None = None
    for driver in spec.drivers:
        values = _series(keypoints, width, height, driver.measure)
        if values is None:
            continue
        progress = _scaled(values, driver.rest_high)
        peaks, _ = find_peaks(np.nan_to_num(progress, nan=0.0), prominence=PROMINENCE,
                              distance=max(1, int(MIN_REP_S * fps)))
        miss = abs(len(peaks) - rep_count)
        if miss <= int(COUNT_TOLERANCE * rep_count) and (best is None or miss < best[0]):
            best = (miss, progress)
    return None if best is None else best[1]


def _series(keypoints: np.ndarray, width: int, height: int, measure: str) -> np.ndarray | None:
    """The measure per frame, gaps filled and smoothed; NaN where the frame has nobody; None when
    the measure is unreadable on too many frames."""
    values = np.full(len(keypoints), np.nan)
    for i, frame in enumerate(keypoints):
        if (frame[:, 2] > 0).any():
            v = measure_all(Pose(frame, width, height, 0.3), [measure])[measure]
            values[i] = np.nan if v is None else v
    seen = np.isfinite(values)
    if seen.mean() < MIN_SEEN:
        return None
    filled = np.interp(np.arange(len(values)), np.flatnonzero(seen), values[seen])
    smooth = uniform_filter1d(median_filter(filled, SMOOTH_FRAMES), SMOOTH_FRAMES)
    body = (keypoints[..., 2] > 0).any(axis=1)
    return np.where(body, smooth, np.nan)


def _scaled(values: np.ndarray, rest_high: bool) -> np.ndarray:
    lo, hi = np.nanpercentile(values, [5, 95])
    progress = (values - lo) / max(hi - lo, 1e-9)
    return np.clip(1.0 - progress if rest_high else progress, 0.0, 1.0)
