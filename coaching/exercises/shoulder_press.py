"""Standing overhead (shoulder) press."""

from coaching.spec import DepthMeasure, ExerciseSpec, FaultRule, PhaseDriver, PhaseNames

SPEC = ExerciseSpec(
    name="shoulder_press",
    title="Shoulder press",
    drivers=(
        # The press happens in the frontal plane: the elbow angle is true from the front only.
        PhaseDriver(measure="elbow_angle", views=("front",), rest=100, turn=140, hysteresis=8),
        PhaseDriver(measure="wrist_height", rest=0.6, turn=0.9, hysteresis=0.05),
    ),
    phases=PhaseNames(rest="rack", away="pressing", turn="lockout", back="lowering"),
    eccentric="back",
    faults=(
        # Leaning back compared with the rack position just before the rep: a camera rolled a few
        # degrees, or a person's own posture, tilts both alike. From the side only (facing decides
        # which way is back). Generated presses with jitter and a rolled camera in
        # scripts/calibrate_faults.py: clean ones stay under it, an 18-degree arch is found.
        FaultRule(id="back_arch", title="arching the lower back", measure="back_lean", aggregate="max",
                  above=10, baseline="rest", views=("side",), cue="Brace your core, don't arch your lower back"),
        FaultRule(id="partial_lockout", title="not locking out overhead", measure="elbow_angle",
                  aggregate="max", below=160, views=("front",), cue="Press all the way up and lock your arms"),
    ),
    preferred_views=("front", "side"),
    needs_parts=("shoulders", "elbows", "hands"),
    partial_cue="Press all the way up",
    depth=DepthMeasure(measure="elbow_angle", aggregate="max", views=("front",)),
    min_rep_s=0.6,
)
