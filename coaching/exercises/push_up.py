"""Push-up on the toes."""

from coaching.spec import DepthMeasure, ExerciseSpec, FaultRule, PhaseDriver, PhaseNames

SPEC = ExerciseSpec(
    name="push_up",
    title="Push-up",
    drivers=(
        PhaseDriver(measure="elbow_angle", views=("side",), rest=145, turn=110, hysteresis=8),
        # Head-on the elbow angle is foreshortened; the chest's height over the hands is not.
        PhaseDriver(measure="shoulder_height", relative=True, rest=0.9, turn=0.7, hysteresis=0.04),
    ),
    phases=PhaseNames(rest="top", away="lowering", turn="bottom", back="pushing"),
    eccentric="away",
    faults=(
        FaultRule(id="hips_sag", title="hips sagging", measure="hip_sag", aggregate="max", above=0.05,
                  views=("side",), cue="Squeeze your glutes, don't let your hips sag"),
        FaultRule(id="hips_pike", title="hips piking up", measure="hip_sag", aggregate="min", below=-0.06,
                  views=("side",), cue="Lower your hips into a straight line"),
        FaultRule(id="partial_range", title="not lowering all the way", measure="elbow_angle",
                  aggregate="min", above=95, views=("side",), cue="Lower your chest all the way down"),
    ),
    preferred_views=("side",),
    view_guidance="Turn sideways so I can see your body line",
    needs_parts=("shoulders", "hips", "hands", "feet"),
    partial_cue="Lower your chest all the way down",
    depth=DepthMeasure(measure="elbow_angle", aggregate="min"),
    min_rep_s=0.6,
)
