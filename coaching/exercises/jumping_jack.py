"""Jumping jacks."""

from coaching.spec import DepthMeasure, ExerciseSpec, FaultRule, PhaseDriver, PhaseNames

SPEC = ExerciseSpec(
    name="jumping_jack",
    title="Jumping jack",
    drivers=(
        PhaseDriver(measure="arm_spread", views=("front", "unknown"), rest=40, turn=120, hysteresis=10),
        # From the side the arms swing in and out of view; the hands' height still rises and falls.
        PhaseDriver(measure="wrist_height", views=("side",), rest=-0.6, turn=0.5, hysteresis=0.1),
    ),
    phases=PhaseNames(rest="closed", away="opening", turn="open", back="closing"),
    eccentric="back",
    faults=(
        FaultRule(id="arms_low", title="hands not overhead", measure="arm_spread", aggregate="max", below=145,
                  views=("front",), cue="Bring your hands all the way overhead"),
        FaultRule(id="feet_narrow", title="feet not jumping wide", measure="leg_spread", aggregate="max",
                  below=2.2, views=("front",), cue="Jump your feet wider"),
    ),
    preferred_views=("front",),
    view_guidance="Face the camera so I can see your arms and legs",
    needs_parts=("hands", "feet"),
    depth=DepthMeasure(measure="arm_spread", aggregate="max", views=("front",)),
    min_rep_s=0.35,
    set_rest_s=5.0,
)
