"""The phase one still frame shows: start position, turning point, or somewhere between.

The live analyzer never decides a phase from one frame: it runs a state machine with hysteresis
over time, and relative drivers (hip height as a fraction of standing height) need the frames
before. Labelled single frames (a picture of the bottom of a squat) can still be checked in two
ways: against the exercise's own phase driver thresholds (`frame_phase`), the ones the analyzer
counts on when the learned model is not loaded, and by the learned model's rep progress for the
frame held still (`learned_frame_phase`), which with the model drives the phases live.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from coaching.geometry import Pose
from coaching.measures import MEASURES
from coaching.motion import MotionModel
from coaching.spec import ExerciseSpec, PhaseDriver
from coaching.view import View, classify_view, width_ratio

FramePhase = Literal["rest", "middle", "turn"]


def single_frame_drivers(spec: ExerciseSpec, view: View) -> list[PhaseDriver]:
    """The exercise's phase drivers valid from this view that one frame can measure: a pose measure
    (not the learned model's progress, which needs the frames before) and not relative (one frame
    has no standing height to be relative to)."""
    return [d for d in spec.drivers if view in d.views and not d.relative and d.measure in MEASURES]


def frame_phase(spec: ExerciseSpec, keypoints: np.ndarray, width: int, height: int,
                min_confidence: float = 0.3) -> FramePhase | None:
    """rest / middle / turn of one frame by the exercise's phase thresholds; None when not measurable.

    The driver is the first single-frame driver valid for the frame's view (read from this frame
    alone) whose measure is visible, as the live analyzer picks its driver. Beyond the driver's
    rest threshold is rest, beyond its turn threshold is turn, anything between is middle (no
    hysteresis: a still frame has no previous phase to hold on to). None when no such driver
    exists for this view or its joints are not visible (a front-view squat frame, a curl with the
    wrist out of the picture).
    """
    pose = Pose(keypoints, width, height, min_confidence)
    for driver in single_frame_drivers(spec, classify_view(width_ratio(pose))):
        value = MEASURES[driver.measure](pose)
        if value is None or not np.isfinite(value):
            continue
        sign = 1.0 if driver.rest_high else -1.0  # larger = nearer the start position
        if value * sign >= driver.rest * sign:
            return "rest"
        if value * sign <= driver.turn * sign:
            return "turn"
        return "middle"
    return None


def learned_frame_phase(model: MotionModel, keypoints: np.ndarray, exercise: str) -> FramePhase:
    """rest / middle / turn of one frame by the learned model's rep progress of `exercise` (0 start
    position, 1 turning point) for the frame held still over the model's whole window: below 1/3
    is rest, above 2/3 turn. The model learned progress 0 / 0.5 / 1 from labelled frames held still
    (training/dataset.py), so this reads it as it was taught; any view, any visible joints."""
    ticks = model.window + model.lookahead
    times = np.arange(ticks) / model.fps
    rows = np.repeat(model.featurise(np.asarray(keypoints, dtype=np.float64)[None]), ticks, axis=0)
    progress = float(model.read(times, rows, float(times[-1])).progress[model.classes.index(exercise), -1])
    return "rest" if progress < 1 / 3 else "turn" if progress > 2 / 3 else "middle"
