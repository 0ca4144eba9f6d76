"""Per-exercise analysis: frames of keypoints in, coaching events out.

`ExerciseAnalyzer(spec).update(keypoints, width, height, t)` is called once per processed frame
of the tracked subject (keypoints None when nobody is seen). It picks the phase driver valid for
the current camera view, runs the rep state machine, judges fault rules at the end of each rep
(or continuously during a hold), ends a set after a pause, and says what the camera cannot see.
Everything it returns is an event model (coaching.events), ready to serialise.
"""

from __future__ import annotations

from collections import Counter, deque
from dataclasses import replace

import numpy as np
from pydantic import BaseModel, Field

from coaching.events import (
    Depth,
    Event,
    FaultDetected,
    Guidance,
    PhaseChanged,
    PhaseTiming,
    RangeOfMotion,
    RepCompleted,
    SetCompleted,
    Tempo,
    r2,
)
from coaching.faults import FrameMeasures, judge_rep
from coaching.geometry import Pose
from coaching.guidance import GuidanceGate
from coaching.holds import HoldTimer
from coaching.measures import MEASURES, measure_all
from coaching.phases import PhaseMachine, RepTiming, Step
from coaching.signal import median_filter
from coaching.smoothing import JOINT_HOLD_S, JointHold
from coaching.spec import MOTION_PROGRESS, ExerciseSpec, PhaseDriver
from coaching.view import View, ViewEstimator, hidden_parts

PARTIAL_FAULT = "partial_rep"
_EXERCISING = "motion_exercising"
_MIN_EXERCISING = 0.25  # below this mean probability over a rep that the person does the exercise, no rep
# Outside a set's rhythm, a rep counted from the learned progress must also move the exercise's own
# measure (knee angle, hip height ...) through at least this share of its thresholds' span, where a
# view shows that measure: the progress of someone walking, setting up or fidgeting swings too.
_MIN_OWN_SWING = 0.5
# ... and an unclear movement is only that exercise's if the measure stays that far out this long
# (`moved_like_a_rep`): a rep's bottom lasts, a walking knee bends for a moment.
_MIN_EXCURSION_S = 0.4
_MIN_JOINTS = 5  # fewer visible joints than this is not a person we can coach
_DRIVER_PATIENCE_S = 0.5  # a driver unseen this long gives way to the next valid one
# The learned model's rep progress drives the phases in every view. Its level and swing vary with
# the person, camera and speed, so the thresholds follow the swing of the last 5 s: in the lowest
# 35% the body is at its start position, in the top 35% at the rep's turning point, and that at a
# progress of 0.4 or more (tuned on the real development set's training side). While the progress
# repeats itself (a set under way) swings down to 0.06 count: fast sets barely move it. In a fast
# set (a rep every 1.5 s or less) the turning point is half the swing: there every other rep often
# swings only about two thirds as far as the one before.
LEARNED_DRIVER = PhaseDriver(measure=MOTION_PROGRESS, rest=0.35, turn=0.65, hysteresis=0.1, adaptive_s=5.0,
                             min_range=0.25, turn_at_least=0.4, periodic_min_range=0.06, fast_turn=0.5)


class AnalyzerOptions(BaseModel):
    """Tuning that is not part of an exercise's definition.

    min_confidence: keypoints below it count as not visible.
    joint_hold_s: a joint lost for up to this long is taken where it was last seen (`JointHold`).
    set_rest_s: seconds without a rep that end a set (None: the exercise's own setting).
    lost_after_s: unseen this long before "I can't see you" becomes a candidate.
    guidance_after_s / guidance_repeat_s / guidance_gap_s: see coaching.guidance.GuidanceGate.
    hold_fault_window_s: a hold fault is judged on the median of this many last seconds.
    hold_fault_repeat_s: the same hold fault is cued at most this often.
    baseline_decay_per_s: how fast the running maximum of relative drivers forgets (a person
        stepping back from the camera looks smaller).
    """

    min_confidence: float = Field(0.3, ge=0, le=1)
    joint_hold_s: float = Field(JOINT_HOLD_S, ge=0)
    set_rest_s: float | None = None
    lost_after_s: float = 1.0
    guidance_after_s: float = 1.0
    guidance_repeat_s: float = 20.0
    guidance_gap_s: float = 4.0
    hold_fault_window_s: float = 1.0
    hold_fault_repeat_s: float = 6.0
    baseline_decay_per_s: float = 0.03


class _RunningMax:
    """A maximum that slowly forgets, fed with 3-frame medians so one spike cannot set it."""

    def __init__(self, decay_per_s: float) -> None:
        self.decay = decay_per_s
        self.value: float | None = None
        self._t = 0.0
        self._recent: deque[float] = deque(maxlen=3)

    def update(self, v: float | None, t: float) -> float | None:
        if v is not None:
            self._recent.append(v)
            m = float(np.median(self._recent))
            if self.value is None:
                self.value = m
            else:
                self.value = max(m, self.value * max(0.0, 1.0 - self.decay * (t - self._t)))
            self._t = t
        return self.value


class ExerciseAnalyzer:
    """Counts reps (or times a hold), judges faults and guides the person for one exercise."""

    def __init__(self, spec: ExerciseSpec, options: AnalyzerOptions | None = None,
                 learned_counting: bool = False, keep_frames: bool = False) -> None:
        """learned_counting: phases and reps follow the learned model's progress (passed to
        update()) instead of the exercise's own angle thresholds, which only hold in the views
        and for the bodies they were set for. keep_frames: keep every frame's measures for
        `moved_like_a_rep` (a short judgement; a live analyzer would grow without end)."""
        self.spec = spec
        self.learned_counting = learned_counting and spec.kind == "reps"
        self.options = options or AnalyzerOptions()
        self.set_rest_s = self.options.set_rest_s if self.options.set_rest_s is not None else spec.set_rest_s
        self._measures = sorted(spec.measures())
        self._views = ViewEstimator()
        self._joint_hold = JointHold(self.options.joint_hold_s, self.options.min_confidence)
        self._gate = GuidanceGate(self.options.guidance_after_s, self.options.guidance_repeat_s,
                                  self.options.guidance_gap_s)
        self._maxima = {d.measure: _RunningMax(self.options.baseline_decay_per_s)
                        for d in spec.drivers if d.relative}
        self._driver: PhaseDriver | None = None
        self._driver_seen = float("-inf")
        self._phase_said: str | None = None
        self._machine: PhaseMachine | None = None
        self._rep_frames: list[FrameMeasures] = []
        # With the learned progress counting, the exercise's own thresholds run beside it and count
        # a rep it misses (shallow reps the model reads as a plank): `_own_update`.
        self._own: PhaseMachine | None = None
        self._own_driver: PhaseDriver | None = None
        self._own_seen = float("-inf")
        self._own_frames: list[FrameMeasures] = []
        self._counted_until = float("-inf")  # a rep counts only if its turning point came after this
        self._rest_frames: deque[FrameMeasures] = deque(maxlen=60)
        self._baselines: dict[str, float] = {}
        self._start_position: dict[str, float] = {}  # each measure's baseline where it was last seen
        self._last_seen = float("-inf")
        self._started_t: float | None = None
        self.reps = 0
        self._set_number = 1
        self.reps_in_set = 0
        self._set_start_t: float | None = None
        self._last_rep_t: float | None = None
        self._set_faults: Counter[str] = Counter()
        self._hold = HoldTimer(spec, self.options.hold_fault_window_s, self.options.hold_fault_repeat_s) \
            if spec.kind == "hold" else None
        self._kept: list[FrameMeasures] | None = [] if keep_frames else None

    # ---- public -------------------------------------------------------------------------------

    @property
    def view(self) -> View:
        return self._views.view

    @property
    def phase(self) -> str | None:
        """The current phase name from the spec (None before the start position is first seen)."""
        if self._hold is not None:
            return "hold" if self._hold.holding else None
        if self._machine is None or self._machine.phase is None:
            return None
        return getattr(self.spec.phases, self._machine.phase)

    @property
    def rep_since(self) -> float | None:
        """When the rep under way began, by the learned progress or by the exercise's own
        thresholds (the earlier); None when neither is inside a rep."""
        starts = [m.rep_since for m in (self._machine, self._own) if m is not None and m.rep_since is not None]
        return min(starts) if starts else None

    @property
    def set_number(self) -> int:
        """The set in progress (1-based)."""
        return self._hold.set_number if self._hold is not None else self._set_number

    @property
    def hold_seconds(self) -> float:
        """Seconds held in the hold in progress (0 when not holding)."""
        return self._hold.seconds if self._hold is not None else 0.0

    def update(self, keypoints: np.ndarray | None, width: int, height: int, t: float,
               progress: float | None = None, exercising: float | None = None) -> list[Event]:
        """Feed one frame at time `t` (seconds); keypoints (17, 3) or None when nobody is seen;
        progress: the learned model's rep progress of this exercise for this frame, exercising:
        its probability that the person is doing this exercise (coaching.motion)."""
        if self._started_t is None:
            self._started_t = t
        if keypoints is not None:
            keypoints = self._joint_hold(keypoints, t)
        pose = None if keypoints is None else Pose(keypoints, width, height, self.options.min_confidence)
        if pose is not None and pose.count_visible() < _MIN_JOINTS:
            pose = None
        if pose is not None:
            self._last_seen = t
        view = self._views.update(pose, t)
        values = measure_all(pose, self._measures) if pose is not None else dict.fromkeys(self._measures)
        values[MOTION_PROGRESS] = progress if pose is not None else None
        values[_EXERCISING] = exercising
        frame = FrameMeasures(t, view, values)
        if self._kept is not None:
            self._kept.append(frame)

        events = self._hold.update(frame) if self._hold is not None else self._reps_update(frame)
        return events + self._guidance(pose, view, t)

    def finish(self, t: float) -> list[Event]:
        """End the set in progress now (exercise changed, session over): its SetCompleted, if any."""
        if self._hold is not None:
            return self._hold.finish(t)
        events: list[Event] = []
        if self._machine is not None:
            rep = self._machine.flush()
            if rep is not None and self._rep_frames and rep.extreme_t > self._counted_until \
                    and self._counts(rep, self._machine):
                events += self._rep_done(rep, self._rep_frames[-1], self._rep_frames, self._driver)
            self._rep_frames = []
        if self._own is not None:  # the exercise's own thresholds beside the progress settle too
            rep = self._own.flush()
            if rep is not None and self._own_frames and self._own_counts(rep):
                events += self._rep_done(rep, self._own_frames[-1], self._own_frames, self._own_driver)
            self._own_frames = []
        return events + (self._end_set(t) if self.reps_in_set else [])

    def moved_like_a_rep(self) -> bool:
        """Did the frames fed so far (keep_frames) move the way a rep of this exercise moves? The
        first of its drivers measured on most of them left the start position's side of its
        thresholds toward the turning point by _MIN_OWN_SWING of their span, stayed that far for
        _MIN_EXCURSION_S, and came back as far: a shallow rep, or a head-on push-up whose chest
        dips less than the thresholds ask, still does; a person getting down to the floor (one
        way only), walking (each knee bends for a moment) or moving only their arms while the
        knees stay bent does not."""
        frames = self._kept or []
        for driver in self.spec.drivers:
            seen = _seen(driver, frames)
            if seen is None:
                continue
            times, series = seen
            if driver.relative:
                series = series / max(float(series.max()), 1e-6)
            sign = 1.0 if driver.turn > driver.rest else -1.0
            toward_turn = sign * series
            before = np.minimum.accumulate(toward_turn)
            after = np.minimum.accumulate(toward_turn[::-1])[::-1]
            need = _MIN_OWN_SWING * abs(driver.rest - driver.turn)
            # Leaving from and coming back to the start position's side of the thresholds: knees
            # that stay bent around 90 degrees while something else moves are not squatting.
            start_side = sign * (driver.rest + driver.turn) / 2
            away = (np.minimum(toward_turn - before, toward_turn - after) >= need) \
                & (np.maximum(before, after) <= start_side)
            return _longest_run_s(times, away) >= _MIN_EXCURSION_S
        return False

    # ---- reps ---------------------------------------------------------------------------------

    def _driver_value(self, driver: PhaseDriver, frame: FrameMeasures) -> float | None:
        v = frame.values.get(driver.measure)
        if driver.relative:
            top = self._maxima[driver.measure].value
            return None if v is None or not top or top <= 0 else v / top
        return v

    def _choose_driver(self, frame: FrameMeasures) -> None:
        """Pick the driver for this frame's view, between reps only (`_own_choice`), or the learned one."""
        if self._machine is not None and self._machine.busy:
            return
        if self.learned_counting:
            if self._driver is None:
                self._driver = LEARNED_DRIVER
                self._machine = PhaseMachine(LEARNED_DRIVER, self.spec.min_rep_s, self.spec.max_rep_s)
            return
        driver = self._own_choice(frame, self._driver, self._driver_seen)
        if driver is not None and driver is not self._driver:
            self._driver = driver
            self._driver_seen = frame.t
            self._machine = PhaseMachine(driver, self.spec.min_rep_s, self.spec.max_rep_s)

    def _own_choice(self, frame: FrameMeasures, current: PhaseDriver | None, seen_t: float) -> PhaseDriver | None:
        """The exercise's own driver for this frame: the current one while it is valid for the view
        and was seen lately (a joint missed for a frame must not swap the measure and restart the
        phases), else the first valid one; None when none is."""
        if current is not None and frame.view in current.views and frame.t - seen_t <= _DRIVER_PATIENCE_S:
            return current
        for driver in self.spec.drivers:
            if frame.view in driver.views and self._driver_value(driver, frame) is not None:
                return driver
        return None

    def _reps_update(self, frame: FrameMeasures) -> list[Event]:
        for measure, running in self._maxima.items():
            running.update(frame.values.get(measure), frame.t)
        self._choose_driver(frame)
        events: list[Event] = []
        raw = frame  # as measured, before the learned driver's value is attached
        machine = self._machine
        if machine is not None and self._driver is not None:
            value = self._driver_value(self._driver, frame)
            if value is not None:
                self._driver_seen = frame.t
                frame = replace(frame, drive=value if self._driver.rest_high else -value)
            was_busy = machine.busy
            step = machine.update(value, frame.t)
            if was_busy or machine.busy:
                self._rep_frames.append(frame)
            if step.rep is not None and step.rep.extreme_t > self._counted_until and self._counts(step.rep, machine):
                events += self._rep_done(step.rep, frame, self._rep_frames, self._driver)
            if ("rest", "away") in step.transitions:
                self._baselines = self._rest_baselines()
                self._start_position.update(self._baselines)
                self._rep_frames = [frame]
            events += self._phase_events(step, frame)
            if not machine.busy:
                self._rep_frames = []
                if machine.phase == "rest":
                    self._rest_frames.append(frame)
        if self.learned_counting:
            events += self._own_update(raw)
        if self.reps_in_set and self._last_rep_t is not None and frame.t - self._last_rep_t >= self.set_rest_s \
                and not (machine is not None and machine.busy):
            events += self._end_set(frame.t)
        return events

    def _own_update(self, frame: FrameMeasures) -> list[Event]:
        """The exercise's own thresholds beside the learned progress: a rep they close whose turning
        point no counted rep covers (the progress stayed flat: a shallow push-up the model reads as
        a plank) counts too, while the model says the person is exercising. Whichever closes a
        rep first counts it; the other then finds its turning point covered."""
        machine = self._own
        if machine is None or not machine.busy:
            driver = self._own_choice(frame, self._own_driver, self._own_seen)
            if driver is not None and driver is not self._own_driver:
                self._own_driver, self._own_seen = driver, frame.t
                self._own = machine = PhaseMachine(driver, self.spec.min_rep_s, self.spec.max_rep_s)
        driver = self._own_driver
        if machine is None or driver is None:
            return []
        value = self._driver_value(driver, frame)
        if value is not None:
            self._own_seen = frame.t
            frame = replace(frame, drive=value if driver.rest_high else -value)
        was_busy = machine.busy
        step = machine.update(value, frame.t)
        if was_busy or machine.busy:
            self._own_frames.append(frame)
        events: list[Event] = []
        if step.rep is not None and self._own_counts(step.rep):
            events = self._rep_done(step.rep, frame, self._own_frames, driver)
        if not machine.busy:
            self._own_frames = []
        return events

    def _own_counts(self, rep: RepTiming) -> bool:
        """A rep the own thresholds closed counts when no counted rep covers its turning point, the
        model says the person exercised, and the progress stayed flat over it."""
        return rep.extreme_t > self._counted_until and self._exercising(rep, self._own_frames) \
            and self._progress_flat(rep, self._own_frames)

    def _progress_flat(self, rep: RepTiming, frames: list[FrameMeasures]) -> bool:
        """Did the learned progress stay within less than its least swing over this rep?"""
        seen = [f.values[MOTION_PROGRESS] for f in frames
                if rep.start_t <= f.t <= rep.end_t and f.values.get(MOTION_PROGRESS) is not None]
        return not seen or float(max(seen) - min(seen)) < LEARNED_DRIVER.min_range

    def _phase_events(self, step: Step, frame: FrameMeasures) -> list[Event]:
        events: list[Event] = []
        for _, after in step.transitions:
            phase = getattr(self.spec.phases, after)
            if phase != self._phase_said:  # a new driver starting at rest is not a new phase
                events.append(PhaseChanged(t=frame.t, exercise=self.spec.name, phase=phase,
                                           previous=self._phase_said, rep=self.reps + 1))
                self._phase_said = phase
        if step.partial and self.spec.partial_cue and frame.view in self.spec.preferred_views \
                and not self.learned_counting:
            # Only where the exercise's range is seen as it is: head-on, a full push-up can look short.
            # With the learned progress a shallow rep is counted (its thresholds follow the swing) and
            # its depth rule names it; a swing that turns back early there is the model hesitating.
            self._set_faults[PARTIAL_FAULT] += 1
            events.append(FaultDetected(t=frame.t, exercise=self.spec.name, fault=PARTIAL_FAULT,
                                        cue=self.spec.partial_cue, rep=None))
        return events

    def _rest_baselines(self) -> dict[str, float]:
        """Median of each measure over the start position just left (heels before the squat)."""
        out = {}
        for name in self._measures:
            vals = [f.values[name] for f in self._rest_frames if f.values.get(name) is not None]
            if vals:
                out[name] = float(np.median(vals))
        self._rest_frames.clear()
        return out

    def _counts(self, rep: RepTiming, machine: PhaseMachine) -> bool:
        """A rep the phase machine closed is counted (see _exercising and _moved)."""
        return self._exercising(rep, self._rep_frames) and (machine.periodic or self._moved(rep))

    def _exercising(self, rep: RepTiming, frames: list[FrameMeasures]) -> bool:
        """Was the person doing an exercise during this rep, as the learned model saw it? A swing
        while walking in, setting up or fidgeting between sets is not a rep. True without readings."""
        seen = [f.values[_EXERCISING] for f in frames
                if rep.start_t <= f.t <= rep.end_t and f.values.get(_EXERCISING) is not None]
        return not seen or float(np.mean(seen)) >= _MIN_EXERCISING

    def _moved(self, rep: RepTiming) -> bool:
        """Did the body move the way this exercise moves during a rep the learned progress counted?
        The first of the exercise's own drivers measured on most of the rep's frames must swing
        toward its turning point through _MIN_OWN_SWING of its rest-to-turn span, from the start
        position last seen or the rep's own least value (a shallow rep still does). True when the
        angles drive the count themselves (no learned model), or no driver's measure is seen.

        Not asked while the progress repeats itself (coaching.phases): fast sets barely move the
        measures, and on the real sets normalised per frame their angles swing little; a rhythm
        is already evidence of a set."""
        if not self.learned_counting:
            return True
        frames = [f for f in self._rep_frames if rep.start_t <= f.t <= rep.end_t]
        for driver in self.spec.drivers:
            smooth = _seen_series(driver, frames)
            if smooth is None:
                continue
            scale = 1.0
            if driver.relative:  # as a fraction of the running maximum, as the driver reads it
                scale = max(self._maxima[driver.measure].value or float(smooth.max()), 1e-6)
            sign = -1.0 if driver.rest_high else 1.0
            toward_turn = sign * smooth / scale
            origin = float(toward_turn.min())
            # The swing counts from the start position too: at a few analysed frames a second, the
            # frames back at the top can all lose the joint (hands at the frame's edge), so the
            # position is the one last seen, the rest just left or one before it.
            start = self._start_position.get(driver.measure)
            if start is not None:
                origin = min(origin, sign * start / scale)
            return float(toward_turn.max()) - origin >= _MIN_OWN_SWING * abs(driver.rest - driver.turn)
        return True

    def _rep_done(self, rep: RepTiming, frame: FrameMeasures, frames: list[FrameMeasures],
                  driver: PhaseDriver | None) -> list[Event]:
        """Count a rep the phase machine of `driver` closed over `frames`: its event and faults."""
        assert driver is not None
        self.reps += 1
        self.reps_in_set += 1
        if self._set_start_t is None:
            self._set_start_t = rep.start_t
        self._last_rep_t = rep.end_t
        self._counted_until = rep.end_t
        verdicts = judge_rep(self.spec.faults, frames, self._baselines)
        for v in verdicts:
            self._set_faults[v.rule.id] += 1
        away = rep.extreme_t - rep.start_t
        back = rep.end_t - rep.extreme_t
        ecc, con = (away, back) if self.spec.eccentric == "away" else (back, away)
        names = self.spec.phases
        views = Counter(f.view for f in frames)
        done = RepCompleted(
            t=frame.t, exercise=self.spec.name, rep=self.reps, set=self._set_number, rep_in_set=self.reps_in_set,
            duration_s=r2(rep.duration_s),
            phases=[PhaseTiming(phase=getattr(names, p), seconds=r2(s)) for p, s in rep.phase_seconds.items()],
            rom=self._rom(driver, rep, frames),
            depth=self._depth(frames),
            tempo=Tempo(eccentric_s=r2(ecc), concentric_s=r2(con)),
            faults=[v.rule.id for v in verdicts],
            view=views.most_common(1)[0][0] if views else frame.view,
        )
        events: list[Event] = [done]
        events += [FaultDetected(t=frame.t, exercise=self.spec.name, fault=v.rule.id, cue=v.rule.cue,
                                 rep=self.reps, value=r2(v.value), threshold=r2(v.rule.threshold))
                   for v in verdicts]
        return events

    def _rom(self, driver: PhaseDriver, rep: RepTiming, frames: list[FrameMeasures]) -> RangeOfMotion:
        """The rep's range in the exercise's own measure (a knee angle, not the model's progress)
        when the frames show it, else in the driver's."""
        if driver.measure == MOTION_PROGRESS:
            for d in self.spec.drivers:
                smooth = None if d.relative else _seen_series(d, frames)
                if smooth is None:
                    continue
                return RangeOfMotion(measure=d.measure, min=r2(smooth.min()), max=r2(smooth.max()),
                                     unit=MEASURES[d.measure].unit)
        unit = ("fraction of the rep" if driver.measure == MOTION_PROGRESS else
                "fraction of start" if driver.relative else MEASURES[driver.measure].unit)
        return RangeOfMotion(measure=driver.measure, min=r2(rep.lowest), max=r2(rep.highest), unit=unit)

    def _depth(self, frames: list[FrameMeasures]) -> Depth | None:
        """The spec's depth number over the rep's frames seen from a view where it is true."""
        spec = self.spec.depth
        if spec is None:
            return None
        vals = [f.values.get(spec.measure) for f in frames if f.view in spec.views]
        seen = np.array([v for v in vals if v is not None], dtype=float)
        if len(seen) < max(1, len(frames) // 2):
            return None
        smooth = median_filter(seen)
        value = smooth.min() if spec.aggregate == "min" else smooth.max()
        return Depth(measure=spec.measure, value=r2(value), unit=MEASURES[spec.measure].unit)

    def _end_set(self, t: float) -> list[Event]:
        start = self._set_start_t if self._set_start_t is not None else t
        end = self._last_rep_t if self._last_rep_t is not None else t
        event = SetCompleted(t=t, exercise=self.spec.name, set=self._set_number, reps=self.reps_in_set,
                             duration_s=r2(end - start), faults=dict(self._set_faults))
        self._set_number += 1
        self.reps_in_set = 0
        self._set_start_t = None
        self._last_rep_t = None
        self._set_faults = Counter()
        return [event]

    # ---- guidance -----------------------------------------------------------------------------

    def _guidance(self, pose: Pose | None, view: View, t: float) -> list[Event]:
        active: list[tuple[str, str]] = []
        if pose is None:
            unseen_since = self._last_seen if self._last_seen > float("-inf") else self._started_t
            if unseen_since is not None and t - unseen_since >= self.options.lost_after_s:
                active.append(("I can't see you. Step into the frame", "not_visible"))
        else:
            hidden = hidden_parts(pose, self.spec.needs_parts)
            if hidden:
                active.append((f"Step back so I can see your {_join(hidden)}", "parts_hidden"))
            elif view not in self.spec.preferred_views and self.spec.view_guidance:
                # Includes an oblique ("unknown") view: the faults are judged fully only from the
                # views that show them (elsewhere at most a clear one: `FaultRule.unsure_views`), so
                # ask for a better one rather than stay silent or guess.
                active.append((self.spec.view_guidance, "wrong_view"))
        message = self._gate.due([m for m, _ in active], t)
        if message is None:
            return []
        reason = dict(active)[message]
        return [Guidance(t=t, exercise=self.spec.name, message=message, reason=reason)]  # type: ignore[arg-type]


def _seen(driver: PhaseDriver, frames: list[FrameMeasures]) -> tuple[np.ndarray, np.ndarray] | None:
    """Times and the driver's measure over the frames seen from its views, median-filtered; None
    when it was seen on fewer than half of them (or 3): too little to say how the body moved."""
    seen = [(f.t, v) for f in frames if f.view in driver.views and (v := f.values.get(driver.measure)) is not None]
    if len(seen) < max(3, len(frames) // 2):
        return None
    times, values = np.array(seen, dtype=float).T
    return times, median_filter(values)


def _seen_series(driver: PhaseDriver, frames: list[FrameMeasures]) -> np.ndarray | None:
    """The driver's measure as `_seen` gives it, without the times."""
    seen = _seen(driver, frames)
    return None if seen is None else seen[1]


def _longest_run_s(times: np.ndarray, flags: np.ndarray) -> float:
    """The longest stretch of consecutive flagged samples, in seconds (first to last flagged)."""
    best, start = 0.0, None
    for t, flag in zip(times, flags):
        if flag:
            start = t if start is None else start
            best = max(best, float(t - start))
        else:
            start = None
    return best


def _join(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
