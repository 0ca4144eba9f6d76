"""The phase one still frame shows: start position, turning point, or somewhere between.

The live analyzer never decides a phase from one frame: it runs a state machine with hysteresis
over time, and relative drivers (hip height as a fraction of standing height) need the frames
before. Labelled single frames (a picture of the bottom of a squat) can still be checked against
the exercise's own phase driver thresholds, which is what this does: the ones the analyzer counts
on when the learned model is not loaded (with it, phases follow the model's progress over time).
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from coaching.geometry import Pose
from coaching.measures import MEASURES
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
