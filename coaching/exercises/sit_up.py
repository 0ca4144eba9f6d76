"""Sit-up (or a high crunch) from lying on the back, knees bent, feet on the floor."""

from coaching.spec import DepthMeasure, ExerciseSpec, FaultRule, PhaseDriver, PhaseNames

SPEC = ExerciseSpec(
    name="sit_up",
    title="Sit-up",
    drivers=(
        # From the side the trunk's angle is true: about 85 deg lying, below 55 once the trunk is
        # 35 deg off the floor (a high crunch does that too).
        PhaseDriver(measure="torso_lean", views=("side", "unknown"), rest=75, turn=55, hysteresis=5),
        # From the feet the trunk points at the camera; the shoulders still rise over the hips.
        PhaseDriver(measure="shoulder_over_hip", views=("front",), rest=0.3, turn=0.75, hysteresis=0.08),
    ),
    phases=PhaseNames(rest="down", away="curling up", turn="up", back="lowering"),
    eccentric="back",
    faults=(
        FaultRule(id="feet_lift", title="feet lifting off the floor", measure="ankle_lift", aggregate="max",
                  above=0.15, baseline="rest", per="shin_length", views=("side",),
                  cue="Keep your feet on the floor"),
        FaultRule(id="neck_pull", title="pulling the chin to the chest", measure="neck_flexion", aggregate="max",
                  above=40, views=("side",), cue="Keep a fist of space under your chin"),
    ),
    preferred_views=("side",),
    view_guidance="Lie sideways to the camera so I can see your back and feet",
    needs_parts=("head", "shoulders", "hips", "feet"),
    partial_cue="Curl up higher",
    depth=DepthMeasure(measure="torso_lean", aggregate="min"),
    min_rep_s=0.8,
)
