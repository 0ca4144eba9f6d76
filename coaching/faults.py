"""Judging fault rules over the frames of one rep or of the last moments of a hold.

Per-frame measures jitter by a few pixels and a joint can be misplaced for a frame, so a rule
never fires on one frame: values are median-filtered over a few frames before the rep's
minimum or maximum is taken, and a rule needs enough frames where its measure was visible from
a view where it means something.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from coaching.signal import median_filter
from coaching.spec import FaultRule
from coaching.view import View

@dataclass(frozen=True, slots=True)
class FrameMeasures:
    """One frame's measures; drive: the phase driver's value, larger nearer the start position."""

    t: float
    view: View
    values: dict[str, float | None]
    drive: float | None = None


_BOTTOM_PART = 1 / 3  # "bottom" = the third of the rep's range nearest its turning point


def _bottom(frames: Sequence[FrameMeasures]) -> list[FrameMeasures]:
    drives = [f.drive for f in frames if f.drive is not None]
    if not drives:
        return []
    lo, hi = min(drives), max(drives)
    return [f for f in frames if f.drive is not None and f.drive <= lo + _BOTTOM_PART * (hi - lo)]


@dataclass(frozen=True, slots=True)
class Verdict:
    rule: FaultRule
    value: float


def _series(rule: FaultRule, frames: Sequence[FrameMeasures], baselines: dict[str, float]) -> np.ndarray | None:
    """The rule's measure over the frames where it is judgeable; None without enough coverage."""
    values = [f.values.get(rule.measure) for f in frames if f.view in rule.views]
    seen = np.array([v for v in values if v is not None], dtype=float)
    if not frames or len(seen) < max(1, rule.min_coverage * len(frames)):
        return None
    if rule.baseline == "rest":
        base = baselines.get(rule.measure)
        per = baselines.get(rule.per, 0.0) if rule.per is not None else 1.0
        if base is None or not per:
            return None
        seen = (seen - base) / per
    return seen


def judge_rep(rules: Sequence[FaultRule], frames: Sequence[FrameMeasures],
              baselines: dict[str, float]) -> list[Verdict]:
    """Rules that fire over a whole rep (aggregate = min or max of the filtered measure)."""
    out = []
    bottom = _bottom(frames)
    for rule in rules:
        series = _series(rule, bottom if rule.during == "bottom" else frames, baselines)
        if series is None:
            continue
        smooth = median_filter(series)
        value = float(smooth.min() if rule.aggregate == "min" else smooth.max())
        if rule.fires(value):
            out.append(Verdict(rule, value))
    return out


def judge_window(rules: Sequence[FaultRule], frames: Sequence[FrameMeasures],
                 baselines: dict[str, float]) -> list[Verdict]:
    """Rules that fire on a held position: the median over the window (a sustained fault, not a twitch)."""
    out = []
    for rule in rules:
        series = _series(rule, frames, baselines)
        if series is None:
            continue
        value = float(np.median(series))
        if rule.fires(value):
            out.append(Verdict(rule, value))
    return out
