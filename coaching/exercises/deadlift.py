"""Barbell or dumbbell deadlift (also the Romanian deadlift): a hip hinge from standing."""

from coaching.spec import DepthMeasure, ExerciseSpec, FaultRule, PhaseDriver, PhaseNames

SPEC = ExerciseSpec(
    name="deadlift",
    title="Deadlift",
    drivers=(
        PhaseDriver(measure="hip_angle", views=("side",), rest=150, turn=115, hysteresis=8),
        # Head-on the hinge is foreshortened; the shoulders dropping toward the floor is not. Not
        # from the side: a rep it drives ends before the hips are straight, which the lockout rule
        # would read as a missed lockout.
        PhaseDriver(measure="shoulder_above_feet", views=("front", "unknown"), relative=True, rest=0.9, turn=0.78,
                    hysteresis=0.03),
    ),
    phases=PhaseNames(rest="top", away="lowering", turn="bottom", back="lifting"),
    eccentric="away",
    faults=(
        # Rounding the back and the order in which hips and shoulders rise are not reliable in 2D
        # keypoints; the finish and the bar path are.
        FaultRule(id="no_lockout", title="not locking out the hips at the top", measure="hip_angle",
                  aggregate="max", below=163, views=("side",), cue="Squeeze your glutes and stand tall at the top"),
        FaultRule(id="bar_drift", title="bar drifting away from the legs", measure="hands_forward",
                  aggregate="max", above=0.45, views=("side",), cue="Keep the bar close to your legs"),
    ),
    preferred_views=("side",),
    view_guidance="Turn sideways so I can see your hips and the bar",
    needs_parts=("shoulders", "hips", "knees", "feet"),
    partial_cue="Hinge a little deeper",
    depth=DepthMeasure(measure="hip_angle", aggregate="min"),
    min_rep_s=1.0,
    max_rep_s=15.0,
)
