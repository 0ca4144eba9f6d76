"""Glute bridge (or hip thrust) from lying on the back, knees bent, feet flat."""

from coaching.spec import DepthMeasure, ExerciseSpec, FaultRule, PhaseDriver, PhaseNames

SPEC = ExerciseSpec(
    name="glute_bridge",
    title="Glute bridge",
    drivers=(
        # Hip angle (shoulder-hip-knee): about 125 deg on the floor, 175+ in a full bridge.
        PhaseDriver(measure="hip_angle", views=("side", "unknown"), rest=140, turn=160, hysteresis=6),
        # From the feet the hip angle is foreshortened; the hips rising over the shoulders is not.
        PhaseDriver(measure="shoulder_over_hip", views=("front",), rest=-0.15, turn=-0.4, hysteresis=0.06),
    ),
    phases=PhaseNames(rest="down", away="lifting", turn="up", back="lowering"),
    eccentric="back",
    faults=(
        FaultRule(id="hips_low", title="hips not fully extended", measure="hip_angle", aggregate="max",
                  below=168, views=("side",), cue="Squeeze your glutes, push your hips all the way up"),
        FaultRule(id="knees_cave", title="knees falling inwards", measure="knee_width_ratio", aggregate="min",
                  below=0.7, views=("front",), cue="Keep your knees in line with your feet"),
    ),
    preferred_views=("side",),
    view_guidance="Lie sideways to the camera so I can see your hips",
    needs_parts=("shoulders", "hips", "knees", "feet"),
    partial_cue="Push your hips higher",
    depth=DepthMeasure(measure="hip_angle", aggregate="max"),
    min_rep_s=0.8,
    max_rep_s=15.0,
)
