"""Bodyweight or barbell back squat."""

from coaching.spec import DepthMeasure, ExerciseSpec, FaultRule, PhaseDriver, PhaseNames

SPEC = ExerciseSpec(
    name="squat",
    title="Squat",
    drivers=(
        # From the side the knee angle is true; from the front it is foreshortened, so hip height
        # relative to standing drives the phases there (about the same depth: knee ~150 / ~115 deg).
        PhaseDriver(measure="knee_angle", views=("side",), rest=155, turn=120, hysteresis=8),
        PhaseDriver(measure="hip_height", relative=True, rest=0.92, turn=0.78, hysteresis=0.03),
    ),
    phases=PhaseNames(rest="top", away="descent", turn="bottom", back="ascent"),
    eccentric="away",
    faults=(
        FaultRule(id="depth", title="depth above parallel", measure="hip_below_knee", aggregate="max",
                  below=-0.1, views=("side",), cue="Sit deeper, hips below your knees"),
        FaultRule(id="knees_cave", title="knees caving in", measure="knee_width_ratio", aggregate="min",
                  below=0.8, views=("front",), cue="Push your knees out over your toes"),
        FaultRule(id="forward_lean", title="leaning too far forward", measure="torso_lean", aggregate="max",
                  above=50, views=("side",), cue="Keep your chest up"),
        FaultRule(id="heels_rise", title="heels lifting", measure="ankle_lift", aggregate="max",
                  above=0.06, baseline="rest", per="shin_length", views=("side",), cue="Keep your heels down"),
    ),
    preferred_views=("side",),
    view_guidance="Turn sideways so I can see your depth",
    needs_parts=("hips", "knees", "feet"),
    partial_cue="Go a bit deeper",
    depth=DepthMeasure(measure="knee_angle", aggregate="min"),
    min_rep_s=0.8,
)
