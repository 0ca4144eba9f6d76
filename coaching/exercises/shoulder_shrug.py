"""Dumbbell or barbell shoulder shrug: shoulders lifted straight up toward the ears, arms long."""

from coaching.spec import DepthMeasure, ExerciseSpec, FaultRule, PhaseDriver, PhaseNames

SPEC = ExerciseSpec(
    name="shoulder_shrug",
    title="Shoulder shrug",
    drivers=(
        # The ears-to-shoulders gap as a fraction of the person's own relaxed gap: people differ
        # more in neck length than a shrug moves.
        PhaseDriver(measure="ear_shoulder_gap", relative=True, rest=0.9, turn=0.76, hysteresis=0.04),
    ),
    phases=PhaseNames(rest="down", away="lifting", turn="up", back="lowering"),
    eccentric="back",
    faults=(
        FaultRule(id="bent_arms", title="pulling with the arms", measure="forearm_raise", aggregate="max",
                  above=-0.6, cue="Keep your arms long, lift only your shoulders"),
    ),
    preferred_views=("front", "side"),
    needs_parts=("head", "shoulders", "hips"),
    partial_cue="Lift your shoulders higher, toward your ears",
    depth=DepthMeasure(measure="ear_shoulder_gap", aggregate="min", views=("front", "side")),
    min_rep_s=0.5,
    max_rep_s=10.0,
)
