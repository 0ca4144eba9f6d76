"""The rep state machine: start position → away → turning point → back → start position.

One driving value (a knee angle, a hip height ...) moves the machine. Thresholds come with
hysteresis, so a value jittering around a threshold cannot flip phases, and a rep counts only
when a full cycle returns to the start position within sane durations: jitter while standing,
a half movement, or a pause of a minute at the bottom never counts. Values pass a 3-frame
median first, so a one-frame detector glitch cannot cross a threshold.

The live phase changes follow the thresholds (they must be decided now). The rep's timing is
measured on the whole rep afterwards: it runs from the moment the body left its start position
(not from the threshold crossing) until it has settled back there, and "bottom" is the time
spent near the rep's own extreme, not below a fixed threshold.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from coaching.signal import median_filter, periodicity
from coaching.spec import PhaseDriver

Phase = Literal["rest", "away", "turn", "back"]
_TURN_BAND = 0.1  # within this fraction of the rep's range from its extreme = "at the turning point"
_SETTLE_BAND = 0.15  # within this fraction of |rest - turn| of the start value = "back at the start"
_SETTLE_MAX_S = 1.0  # a rep is closed at the latest this long after crossing back into the start zone
# A set under way repeats itself: over the last 6 s the value's autocorrelation peaks at 0.5 or
# more for a period of 0.3-4 s (rechecked every third frame). Tuned on the real development set
# (docs/REAL_PEOPLE.md). The floor sits below the fastest real reps (jumping jacks at 0.4 s): an
# autocorrelation peak on the range's edge is not seen, and a floor of 0.4 s took such a set's
# period for twice as long, and its reps for too short to count.
_PERIODIC_WINDOW_S = 6.0
_PERIODIC_AT = 0.5
_PERIOD_RANGE_S = (0.3, 4.0)
_PERIODIC_EVERY = 3
_PERIOD_SPAN = 1.5  # while periodic, the swing is measured over this many periods (at least 1 s)
_PERIOD_MIN_REP = 0.4  # and a rep may be as short as this share of a period
_FAST_PERIOD_S = 1.5  # a set repeating at least this often is fast (the driver's fast_turn applies)


@dataclass(slots=True)
class RepTiming:
    """One finished rep: when it left and settled back into the start position, extremes, phase seconds."""

    start_t: float
    end_t: float
    extreme_t: float
    lowest: float
    highest: float
    phase_seconds: dict[Phase, float]

    @property
    def duration_s(self) -> float:
        return self.end_t - self.start_t


@dataclass(slots=True)
class Step:
    """What one update did: phase transitions, a finished rep, or an abandoned partial movement."""

    transitions: list[tuple[Phase | None, Phase]] = field(default_factory=list)
    rep: RepTiming | None = None
    partial: bool = False


def rep_timing(times: np.ndarray, values: np.ndarray, sign: float) -> RepTiming:
    """Timing of one rep from its samples (sign: +1 when the start position is the high end).

    The turning point is the middle of the time spent near the extreme, which a single noisy
    minimum would not be.
    """
    smooth = median_filter(values)
    closeness = smooth * sign
    extreme = float(closeness.min())
    span = float(closeness.max()) - extreme
    near = np.flatnonzero(closeness <= extreme + _TURN_BAND * span)
    t0, t_in, t_out, t1 = float(times[0]), float(times[near[0]]), float(times[near[-1]]), float(times[-1])
    return RepTiming(
        start_t=t0, end_t=t1, extreme_t=(t_in + t_out) / 2,
        lowest=float(smooth.min()), highest=float(smooth.max()),
        phase_seconds={"away": t_in - t0, "turn": t_out - t_in, "back": t1 - t_out},
    )


class PhaseMachine:
    """Runs one PhaseDriver's thresholds over a stream of values (None = not visible this frame).

    max_gap_s: a rep in progress whose value is unseen this long is dropped (the person left).
    """

    def __init__(self, driver: PhaseDriver, min_rep_s: float, max_rep_s: float, max_gap_s: float = 1.0) -> None:
        self.driver = driver
        self.min_rep_s = min_rep_s
        self._min_rep_s = min_rep_s
        self.max_rep_s = max_rep_s
        self.max_gap_s = max_gap_s
        # Work in "closeness to the start position": larger is nearer the start, whatever the measure.
        self._sign = 1.0 if driver.rest_high else -1.0
        self._rest = driver.rest * self._sign
        self._turn = driver.turn * self._sign
        self._h = driver.hysteresis
        self._settle = _SETTLE_BAND * abs(driver.rest - driver.turn)
        self._envelope: deque[tuple[float, float]] = deque()
        self._recent_values: deque[tuple[float, float]] = deque()  # for the period, when the driver asks
        self._period: float | None = None
        self._frames_to_period = 0
        self.phase: Phase | None = None
        self._last_seen = float("-inf")
        self._recent: deque[float] = deque(maxlen=3)
        self._rest_hist: deque[tuple[float, float]] = deque(maxlen=45)  # (t, value) at the start position
        self._samples: list[tuple[float, float]] = []  # (t, value) of the rep in progress
        self._start_c = 0.0  # closeness of the start position the rep left from
        self._crossed_t: float | None = None  # back in the start zone, still settling
        self._best_after = 0.0

    @property
    def in_rep(self) -> bool:
        return self.phase in ("away", "turn", "back")

    @property
    def periodic(self) -> bool:
        """The value repeats itself (a set under way), for drivers that look for it."""
        return self._period is not None

    @property
    def busy(self) -> bool:
        """In a rep, or back at the start but the rep not yet closed."""
        return self.in_rep or self._crossed_t is not None

    @property
    def rep_since(self) -> float | None:
        """When the rep under way (or still settling) began; None when there is none."""
        return self._samples[0][0] if self.busy and self._samples else None

    def reset(self) -> None:
        self.phase = None
        self._samples = []
        self._crossed_t = None
        self._recent.clear()
        self._rest_hist.clear()

    def flush(self) -> RepTiming | None:
        """Close a rep that is still settling (end of set, end of session)."""
        return self._close()

    def update(self, value: float | None, t: float) -> Step:
        step = Step()
        if value is None:
            if self.phase is not None and t - self._last_seen > self.max_gap_s:
                step.rep = self._close()
                self.reset()
            return step
        self._last_seen = t
        self._recent.append(value)
        value = float(np.median(self._recent))
        v = value * self._sign
        if self.driver.adaptive_s is not None:
            self._adapt(t, value)

        if self._crossed_t is not None:
            self._samples.append((t, value))
            self._best_after = max(self._best_after, v)
            if v >= self._start_c - self._settle or v < self._best_after - self._h / 2 \
                    or t - self._crossed_t >= _SETTLE_MAX_S:
                step.rep = self._close()
        if self.in_rep:
            self._samples.append((t, value))
            if t - self._samples[0][0] > self.max_rep_s:
                self.reset()
                return step

        if self.phase is None:
            if v >= self._rest:
                self._go("rest", step)
                self._rest_hist.append((t, value))
        elif self.phase == "rest":
            if v >= self._rest - self._h:
                self._rest_hist.append((t, value))
            else:
                step.rep = step.rep or self._close()
                self._leave_rest(t, value)
                self._go("away", step)
        elif self.phase == "away":
            if v <= self._turn:
                self._go("turn", step)
            elif v >= self._rest:
                deepest = min(s[1] * self._sign for s in self._samples)
                # A partial movement must swing at least part of min_range: the jitter of someone
                # standing between sets is no half rep.
                step.partial = deepest <= (self._rest - self._h + self._turn) / 2 \
                    and self._start_c - deepest >= 0.6 * self.driver.min_range
                self._samples = []
                self._rest_hist.clear()
                self._rest_hist.append((t, value))
                self._go("rest", step)
        elif self.phase == "turn":
            if v > self._turn + self._h:
                self._go("back", step)
        elif self.phase == "back":
            if v <= self._turn:
                self._go("turn", step)
            elif v >= self._rest:
                self._go("rest", step)
                self._crossed_t, self._best_after = t, v
                self._rest_hist.clear()
                self._rest_hist.append((t, value))
        return step

    def _adapt(self, t: float, value: float) -> None:
        """Thresholds as fractions of the swing over the last adaptive_s seconds (at least
        min_range); while the value repeats, over the last periods (at least periodic_min_range),
        and in a fast set with the turning point at the driver's fast_turn of it."""
        d = self.driver
        assert d.adaptive_s is not None
        window_s, min_range = d.adaptive_s, d.min_range
        if d.periodic_min_range is not None:
            self._update_period(t, value)
            if self._period is not None:
                window_s = max(1.0, _PERIOD_SPAN * self._period)
                min_range = d.periodic_min_range
        self.min_rep_s = self._min_rep_s if self._period is None \
            else min(self._min_rep_s, _PERIOD_MIN_REP * self._period)
        env = self._envelope
        env.append((t, value))
        while t - env[0][0] > window_s:
            env.popleft()
        values = [x for _, x in env]
        lo, hi = min(values), max(values)
        span = max(hi - lo, min_range)
        start = lo if not d.rest_high else hi  # the start position is the low end unless rest > turn
        step = span if not d.rest_high else -span
        fast = self._period is not None and self._period <= _FAST_PERIOD_S
        share = d.fast_turn if fast and d.fast_turn is not None else d.turn
        turn = start + share * step
        if d.turn_at_least is not None:
            turn = max(turn, d.turn_at_least) if not d.rest_high else min(turn, d.turn_at_least)
        self._rest = (start + d.rest * step) * self._sign
        self._turn = turn * self._sign
        self._h = d.hysteresis * span
        self._settle = _SETTLE_BAND * abs(d.rest - share) * span

    def _update_period(self, t: float, value: float) -> None:
        recent = self._recent_values
        recent.append((t, value))
        while t - recent[0][0] > _PERIODIC_WINDOW_S:
            recent.popleft()
        self._frames_to_period -= 1
        if self._frames_to_period > 0:
            return
        self._frames_to_period = _PERIODIC_EVERY
        times = np.fromiter((x[0] for x in recent), float, len(recent))
        values = np.fromiter((x[1] for x in recent), float, len(recent))
        strength, period = periodicity(times, values, *_PERIOD_RANGE_S)
        self._period = period if strength >= _PERIODIC_AT else None

    def _leave_rest(self, t: float, value: float) -> None:
        """Start the rep's samples where the body last was at its start position, not at the threshold."""
        hist = list(self._rest_hist)
        closeness = median_filter(np.array([x for _, x in hist])) * self._sign if hist else np.array([])
        if len(closeness):
            self._start_c = float(closeness.max())
            settled = np.flatnonzero(closeness >= self._start_c - self._settle)
            hist = hist[int(settled[-1]):]
        else:
            self._start_c = value * self._sign
        self._samples = hist + [(t, value)]
        self._rest_hist.clear()

    def _close(self) -> RepTiming | None:
        """Finish the settling rep: its timing if its duration is plausible."""
        if self._crossed_t is None:
            return None
        self._crossed_t = None
        samples, self._samples = self._samples, []
        times = np.array([s[0] for s in samples])
        if len(times) < 3 or not self.min_rep_s <= times[-1] - times[0] <= self.max_rep_s:
            return None
        return rep_timing(times, np.array([s[1] for s in samples]), self._sign)

    def _go(self, phase: Phase, step: Step) -> None:
        step.transitions.append((self.phase, phase))
        self.phase = phase
