"""What an exercise is, as data: the measure that drives its phases, its thresholds, its fault rules.

An exercise file builds one `ExerciseSpec`; the analyzer interprets it. Thresholds are in the
units of the named measure (see coaching.measures). Cues are short, spoken-style sentences.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from coaching.measures import MEASURES
from coaching.view import BODY_PARTS, View

MOTION_PROGRESS = "motion_progress"
"""Not a pose measure: the learned skeleton model's per-frame rep progress (coaching.motion),
0 at the start position, 1 at the turning point. A driver on it counts in any view."""


class _Spec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class PhaseNames(_Spec):
    """Names of the four phases, from the start position out to the turning point and back."""

    rest: str = "top"
    away: str = "descent"
    turn: str = "bottom"
    back: str = "ascent"


class PhaseDriver(_Spec):
    """A measure whose value moves the rep through its phases, valid from the listed views.

    rest: value at or beyond which the body is in its start position (e.g. knee angle 160).
    turn: value at or beyond which the rep has reached its turning point (e.g. knee angle 120).
    Whether "beyond" means above or below follows from which of the two is larger.
    hysteresis: how far back past a threshold the value must go to leave a phase, so jitter
        around a threshold cannot flip phases (or count reps) back and forth.
    relative: divide the measure by its running maximum first (hip height as a fraction of
        standing height), for measures in pixels.
    adaptive_s: rest and turn are then fractions (0-1) of the range the value spanned over the
        last adaptive_s seconds, not fixed values: a signal whose level and swing differ from
        person to person (the learned model's progress on a fast, short rep) still counts.
        min_range: the smallest swing that can make a rep, so jitter while resting cannot.
        turn_at_least: and the turning point is never nearer the start than this value (a
        hesitation before the first rep after a rest is no rep, however the swing scales).
        periodic_min_range: while the value repeats itself (a set under way, coaching.phases),
        the smallest swing that makes a rep is this instead of min_range, the swing is measured
        over the last one and a half reps and reps as short as 0.4 of a period count: a fast
        set's small, regular swings are reps, a resting body's jitter does not repeat.
        fast_turn: and while it repeats at least every 1.5 s (a fast set) the turning point is
        this fraction of the swing instead of turn: a fast set's reps alternate deeper and
        shallower, and the swing over one and a half reps is the deeper one's.
    """

    measure: str
    views: tuple[View, ...] = ("side", "front", "unknown")
    rest: float
    turn: float
    hysteresis: float = Field(gt=0)
    relative: bool = False
    adaptive_s: float | None = Field(None, gt=0)
    min_range: float = Field(0.0, ge=0)
    turn_at_least: float | None = None
    periodic_min_range: float | None = Field(None, ge=0)
    fast_turn: float | None = None

    @model_validator(mode="after")
    def _check(self) -> PhaseDriver:
        if self.measure not in MEASURES and self.measure != MOTION_PROGRESS:
            raise ValueError(f"unknown measure {self.measure!r}")
        if abs(self.rest - self.turn) <= 2 * self.hysteresis:
            raise ValueError("rest and turn must be more than two hystereses apart")
        low, high = sorted((self.rest, self.turn))
        if self.fast_turn is not None and not low < self.fast_turn < high:
            raise ValueError("fast_turn must lie between rest and turn")
        return self

    @property
    def rest_high(self) -> bool:
        return self.rest > self.turn


class FaultRule(_Spec):
    """A form fault: a measure aggregated over one rep (or over the last second of a hold).

    The rule fires when the aggregate is above `above` or below `below`. With baseline="rest"
    the measure is first taken relative to its median in the preceding start position (heels
    rising compared with standing), and divided by the start position's median of `per` when
    given (pixels become shin lengths; a per-frame ratio would multiply the pixel jitter). `views` are the views where the measure means what it says;
    elsewhere the rule is skipped. min_coverage: the fraction of the rep's frames in which the
    measure must be visible for a verdict. during="bottom" judges only the deepest third of the
    rep (a knee collapsing under load), not the stepping or standing parts of it.
    `unsure_views` are views where the measure still means something but less clearly (a
    three-quarter view of a plank's body line): there the rule fires only on a fault `unsure_scale`
    times as large, so a fault is called from such a view only when it is clear.
    """

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    title: str
    measure: str
    aggregate: Literal["min", "max"]
    above: float | None = None
    below: float | None = None
    baseline: Literal["none", "rest"] = "none"
    per: str | None = None
    during: Literal["rep", "bottom"] = "rep"
    views: tuple[View, ...] = ("side", "front")
    unsure_views: tuple[View, ...] = ()
    unsure_scale: float = Field(2.0, ge=1)
    cue: str
    min_coverage: float = Field(0.5, ge=0, le=1)

    @model_validator(mode="after")
    def _check(self) -> FaultRule:
        for name in (self.measure, self.per):
            if name is not None and name not in MEASURES:
                raise ValueError(f"unknown measure {name!r}")
        if self.per is not None and self.baseline != "rest":
            raise ValueError("per needs baseline='rest'")
        if (self.above is None) == (self.below is None):
            raise ValueError("give exactly one of above / below")
        if set(self.views) & set(self.unsure_views):
            raise ValueError("a view is either sure or unsure")
        return self

    def scale_in(self, view: View) -> float | None:
        """What a measure taken in `view` is divided by before the threshold (None: not judged there)."""
        if view in self.views:
            return 1.0
        return self.unsure_scale if view in self.unsure_views else None

    @property
    def threshold(self) -> float:
        return self.above if self.above is not None else self.below  # type: ignore[return-value]

    def fires(self, value: float) -> bool:
        return value > self.above if self.above is not None else value < self.below  # type: ignore[operator]


class Condition(_Spec):
    """measure within [min, max] (either bound optional)."""

    measure: str
    min: float | None = None
    max: float | None = None

    def holds(self, value: float | None) -> bool:
        return value is not None and (self.min is None or value >= self.min) and \
            (self.max is None or value <= self.max)


class HoldSpec(_Spec):
    """A held position (plank): in position while every condition holds.

    grace_s: how long out of position (or unseen) still counts as the same hold.
    progress_every_s: how often a HoldProgress event reports the time held.
    """

    conditions: tuple[Condition, ...]
    views: tuple[View, ...] = ("side",)
    grace_s: float = 1.0
    progress_every_s: float = 1.0
    min_hold_s: float = 2.0


class DepthMeasure(_Spec):
    """The number a person means by "how deep was that": e.g. the smallest knee angle of a squat rep,
    reported per rep when seen from one of `views`."""

    measure: str
    aggregate: Literal["min", "max"]
    views: tuple[View, ...] = ("side",)

    @model_validator(mode="after")
    def _check(self) -> DepthMeasure:
        if self.measure not in MEASURES:
            raise ValueError(f"unknown measure {self.measure!r}")
        return self


class ExerciseSpec(_Spec):
    """One exercise. kind="reps" counts repetitions through `drivers`; kind="hold" times `hold`.

    drivers: tried in order, the first whose views include the current view drives the phases
        (a knee angle from the side, hip height from the front where the 2D knee angle lies).
    preferred_views: views from which every rule can be judged; from another known view the
        person hears `view_guidance` (rate-limited).
    needs_parts: body parts that must be in the frame (else "Step back so I can see your feet").
    partial_cue: said when a movement turns back before reaching the turning point.
    depth: the per-rep number reported as the rep's depth (RepCompleted.depth).
    eccentric: which half of the rep is the lowering (eccentric) half, for tempo.
    min_rep_s / max_rep_s: shorter reps are jitter, longer ones are not one rep.
    set_rest_s: a set ends after this long without a rep.
    """

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    title: str
    kind: Literal["reps", "hold"] = "reps"
    drivers: tuple[PhaseDriver, ...] = ()
    phases: PhaseNames = PhaseNames()
    eccentric: Literal["away", "back"] = "away"
    hold: HoldSpec | None = None
    faults: tuple[FaultRule, ...] = ()
    preferred_views: tuple[View, ...] = ("side", "front")
    view_guidance: str = ""
    needs_parts: tuple[str, ...] = ()
    partial_cue: str | None = None
    depth: DepthMeasure | None = None
    min_rep_s: float = 0.5
    max_rep_s: float = 12.0
    set_rest_s: float = 8.0

    @model_validator(mode="after")
    def _check(self) -> ExerciseSpec:
        if self.kind == "reps" and not self.drivers:
            raise ValueError("a reps exercise needs at least one driver")
        if self.kind == "hold" and self.hold is None:
            raise ValueError("a hold exercise needs a hold spec")
        unknown = [p for p in self.needs_parts if p not in BODY_PARTS]
        if unknown:
            raise ValueError(f"unknown body parts {unknown}")
        ids = [f.id for f in self.faults]
        if len(ids) != len(set(ids)):
            raise ValueError("fault ids must be unique")
        return self

    def measures(self) -> set[str]:
        """Every measure this exercise reads each frame."""
        names = {d.measure for d in self.drivers} | {f.measure for f in self.faults}
        names |= {f.per for f in self.faults if f.per is not None}
        if self.depth is not None:
            names.add(self.depth.measure)
        if self.hold is not None:
            names |= {c.measure for c in self.hold.conditions}
        return names

    def fault(self, fault_id: str) -> FaultRule | None:
        return next((f for f in self.faults if f.id == fault_id), None)

    def depth_hidden_from(self, view: str | None) -> bool:
        """This exercise has a depth, but not one this view shows (a squat's knee angle head-on)."""
        return self.depth is not None and view not in self.depth.views
