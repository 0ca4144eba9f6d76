"""Standing dumbbell lateral raise: arms lifted out to the sides to shoulder height."""

from coaching.spec import DepthMeasure, ExerciseSpec, FaultRule, PhaseDriver, PhaseNames

SPEC = ExerciseSpec(
    name="lateral_raise",
    title="Lateral raise",
    drivers=(
        # The elbows' height, not the hands': a raise with bent elbows is still a full raise, and
        # heights are true from any view while the arm angle is foreshortened from the side.
        PhaseDriver(measure="elbow_height", rest=-0.4, turn=-0.15, hysteresis=0.06),
    ),
    phases=PhaseNames(rest="down", away="raising", turn="up", back="lowering"),
    eccentric="back",
    faults=(
        FaultRule(id="elbows_too_high", title="lifting the elbows above the shoulders", measure="elbow_height",
                  aggregate="max", above=0.12, cue="Stop with your elbows at shoulder height"),
        # Shoulders creeping up toward the ears compared with the start: the upper traps take over.
        FaultRule(id="shrugging", title="shrugging the shoulders up", measure="ear_shoulder_gap", aggregate="min",
                  below=-0.08, baseline="rest", cue="Keep your shoulders down, away from your ears"),
    ),
    preferred_views=("front",),
    view_guidance="Face the camera so I can see both arms",
    needs_parts=("head", "shoulders", "elbows", "hips"),
    partial_cue="Raise your elbows to shoulder height",
    depth=DepthMeasure(measure="arm_spread", aggregate="max", views=("front",)),
    min_rep_s=0.8,
)
