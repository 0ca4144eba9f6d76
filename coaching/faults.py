"""Judging fault rules over the frames of one rep or of the last moments of a hold.

Per-frame measures jitter by a few pixels and a joint can be misplaced for a frame, so a rule
never fires on one frame: values are median-filtered over a few frames, and a rule needs enough
frames where its measure was visible from a view where it means something (its views and
min_coverage), else it gives no verdict at all rather than a guess.

Two kinds of rule read the rep differently. A shortfall ("not deep enough": the rep's max stays
below a threshold, or its min above one) is judged on the best the rep reached, so a person who
touched depth for an instant is not told to go deeper. An excursion ("hips sagging": the max goes
above a threshold, or the min below one) is cued only when it is sustained: the aggregate is the
value the measure reached on at least SUSTAINED_SHARE of the judged frames, not on its single most
extreme frame: detector jitter makes a clean rep's most extreme frame look worse than the rep was
(a clean press leans back ~2 degrees more on its worst frame than on its worst tenth with +-8 px of
jitter). On the real push-up clips (scripts/calibrate_faults.py) it costs some faults on the
tuning part (F1 0.52 against 0.58 on single frames) and flags fewer correct held-out clips (15%
against 20%) at the same held-out F1.
"""

from __future__ import annotations

import math
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


SUSTAINED_SHARE = 0.1  # an excursion must show on at least this share of the judged frames
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
    """The rule's measure over the frames where it is judgeable, each divided by its view's scale
    (`FaultRule.scale_in`); None without enough coverage."""
    pairs = [(f.values.get(rule.measure), rule.scale_in(f.view)) for f in frames]
    judged = [(v, scale) for v, scale in pairs if v is not None and scale is not None]
    if not frames or len(judged) < max(1, rule.min_coverage * len(frames)):
        return None
    seen = np.array([v for v, _ in judged], dtype=float)
    if rule.baseline == "rest":
        base = baselines.get(rule.measure)
        per = baselines.get(rule.per, 0.0) if rule.per is not None else 1.0
        if base is None or not per:
            return None
        seen = (seen - base) / per
    return seen / np.array([scale for _, scale in judged])


def is_excursion(rule: FaultRule) -> bool:
    """True for a rule that fires when the measure goes too far (max above, min below), False for
    one that fires when it does not go far enough (max below, min above)."""
    return (rule.aggregate == "max") == (rule.above is not None)


def rep_value(rule: FaultRule, frames: Sequence[FrameMeasures], baselines: dict[str, float]) -> float | None:
    """The rule's value over one rep, None when it cannot be judged. After the median filter: the
    extreme for a shortfall, the value held on SUSTAINED_SHARE of the judged frames for an excursion."""
    series = _series(rule, _bottom(frames) if rule.during == "bottom" else frames, baselines)
    if series is None:
        return None
    smooth = np.sort(median_filter(series))
    if rule.aggregate == "max":
        smooth = smooth[::-1]  # most extreme first
    k = math.ceil(SUSTAINED_SHARE * len(smooth)) if is_excursion(rule) else 1
    return float(smooth[max(1, k) - 1])


def window_value(rule: FaultRule, frames: Sequence[FrameMeasures], baselines: dict[str, float]) -> float | None:
    """The rule's value on a held position: the median over the window (a sustained fault, not a
    twitch); None when it cannot be judged."""
    series = _series(rule, frames, baselines)
    return None if series is None else float(np.median(series))


def judge_rep(rules: Sequence[FaultRule], frames: Sequence[FrameMeasures],
              baselines: dict[str, float]) -> list[Verdict]:
    """Rules that fire over a whole rep."""
    values = ((rule, rep_value(rule, frames, baselines)) for rule in rules)
    return [Verdict(rule, v) for rule, v in values if v is not None and rule.fires(v)]


def judge_window(rules: Sequence[FaultRule], frames: Sequence[FrameMeasures],
                 baselines: dict[str, float]) -> list[Verdict]:
    """Rules that fire on a held position."""
    values = ((rule, window_value(rule, frames, baselines)) for rule in rules)
    return [Verdict(rule, v) for rule, v in values if v is not None and rule.fires(v)]
