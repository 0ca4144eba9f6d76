"""Forward lunge (either leg)."""

from coaching.spec import DepthMeasure, ExerciseSpec, FaultRule, PhaseDriver, PhaseNames

SPEC = ExerciseSpec(
    name="lunge",
    title="Lunge",
    drivers=(
        # Hip height, not the knee angle: the stepping leg bends its knee in the air, the hips stay up.
        PhaseDriver(measure="hip_height", relative=True, rest=0.92, turn=0.75, hysteresis=0.03),
    ),
    phases=PhaseNames(rest="standing", away="lowering", turn="bottom", back="rising"),
    eccentric="away",
    faults=(
        # COCO has no toes: the toes are about half a shin length ahead of the ankle.
        FaultRule(id="knee_past_toes", title="front knee past the toes", measure="knee_forward",
                  aggregate="max", above=0.45, views=("side",), cue="Keep your front knee behind your toes"),
        FaultRule(id="knee_cave", title="front knee collapsing inwards", measure="knee_inward", aggregate="max",
                  above=0.25, during="bottom", views=("front",), cue="Keep your front knee in line with your foot"),
        FaultRule(id="torso_lean", title="leaning forward", measure="torso_lean", aggregate="max", above=22,
                  views=("side",), cue="Stay tall, chest up"),
    ),
    preferred_views=("side",),
    view_guidance="Turn sideways so I can see your front knee",
    needs_parts=("hips", "knees", "feet"),
    partial_cue="Drop your back knee lower",
    depth=DepthMeasure(measure="lead_knee_angle", aggregate="min"),
    min_rep_s=0.8,
)
