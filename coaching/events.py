"""Events the analysis emits, as small pydantic models that go to clients as JSON.

Every event has a `type` literal (the discriminator), the time `t` (seconds, the frame's
timestamp) and the `exercise` it concerns. Numbers are plain floats rounded for the wire.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter


def r2(x: float) -> float:
    """Round to 2 decimals as a plain Python float (never a numpy scalar)."""
    return round(float(x), 2)


class _Event(BaseModel):
    model_config = ConfigDict(frozen=True)

    t: float
    exercise: str


class PhaseTiming(BaseModel):
    phase: str
    seconds: float


class RangeOfMotion(BaseModel):
    """Extremes of the measure that drove the rep (e.g. knee angle, degrees) over the rep."""

    measure: str
    min: float
    max: float
    unit: str


class Depth(BaseModel):
    """The rep's depth as a person means it (e.g. smallest knee angle), when the view shows it."""

    measure: str
    value: float
    unit: str


class Tempo(BaseModel):
    """Seconds lowering (eccentric) and lifting (concentric), split at the turning point."""

    eccentric_s: float
    concentric_s: float


class PhaseChanged(_Event):
    type: Literal["phase_changed"] = "phase_changed"
    phase: str
    previous: str | None
    rep: int = Field(description="the rep in progress (reps counted so far + 1)")


class RepCompleted(_Event):
    type: Literal["rep_completed"] = "rep_completed"
    rep: int = Field(description="reps of this exercise in the session so far")
    set: int
    rep_in_set: int
    duration_s: float
    phases: list[PhaseTiming]
    rom: RangeOfMotion
    depth: Depth | None = None
    tempo: Tempo
    faults: list[str]
    view: str


class FaultDetected(_Event):
    type: Literal["fault_detected"] = "fault_detected"
    fault: str
    cue: str
    rep: int | None = Field(None, description="the rep it was seen in; None during a hold or a partial rep")
    value: float | None = None
    threshold: float | None = None


class Guidance(_Event):
    type: Literal["guidance"] = "guidance"
    message: str
    reason: Literal["not_visible", "parts_hidden", "wrong_view"]


class HoldProgress(_Event):
    type: Literal["hold_progress"] = "hold_progress"
    seconds: float
    in_position: bool


class ExerciseChanged(_Event):
    type: Literal["exercise_changed"] = "exercise_changed"
    previous: str | None
    source: Literal["user", "recognizer"]
    confidence: float | None = None


class SetCompleted(_Event):
    type: Literal["set_completed"] = "set_completed"
    set: int
    reps: int
    duration_s: float
    hold_s: float | None = None
    faults: dict[str, int] = Field(default_factory=dict, description="fault id -> reps (or cues in a hold) it was seen in")


Event = Annotated[
    PhaseChanged | RepCompleted | FaultDetected | Guidance | HoldProgress | ExerciseChanged | SetCompleted,
    Field(discriminator="type"),
]
_ADAPTER: TypeAdapter[Event] = TypeAdapter(Event)


def event_to_json(event: Event) -> dict[str, Any]:
    """The event as a JSON-ready dict."""
    return event.model_dump(mode="json")


def event_from_json(data: dict[str, Any]) -> Event:
    """Parse a dict produced by event_to_json back into its event model."""
    return _ADAPTER.validate_python(data)
