"""Standing dumbbell front raise: straight arms lifted forward to shoulder height."""

from coaching.spec import DepthMeasure, ExerciseSpec, FaultRule, PhaseDriver, PhaseNames

SPEC = ExerciseSpec(
    name="front_raise",
    title="Front raise",
    drivers=(
        # The hands' height over the shoulders is true from any view; the arm angle only from the side.
        PhaseDriver(measure="wrist_height", rest=-0.7, turn=-0.25, hysteresis=0.08),
    ),
    phases=PhaseNames(rest="down", away="raising", turn="up", back="lowering"),
    eccentric="back",
    faults=(
        FaultRule(id="arms_too_high", title="raising the arms above shoulder height", measure="wrist_height",
                  aggregate="max", above=0.3, cue="Stop at shoulder height"),
        FaultRule(id="torso_swing", title="swinging the torso back", measure="back_lean", aggregate="max",
                  above=10, views=("side",), cue="Stand still, lift with your shoulders, not your back"),
    ),
    preferred_views=("side",),
    view_guidance="Turn sideways so I can see your arms and back",
    needs_parts=("shoulders", "elbows", "hands", "hips"),
    partial_cue="Lift your arms to shoulder height",
    depth=DepthMeasure(measure="arm_spread", aggregate="max"),
    min_rep_s=0.8,
)
