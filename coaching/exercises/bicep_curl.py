"""Standing dumbbell or barbell biceps curl, both arms together or one arm at a time.

While one arm curls and the other rests, the drivers, depth and range rule read the working arm
(the more bent elbow, the higher hand), so a curl of either arm is a rep and the resting arm is not
judged for the range it did not move; with both arms curling they read both, as other exercises do.
"""

from coaching.spec import DepthMeasure, ExerciseSpec, FaultRule, PhaseDriver, PhaseNames

SPEC = ExerciseSpec(
    name="bicep_curl",
    title="Biceps curl",
    drivers=(
        PhaseDriver(measure="bent_elbow_angle", views=("side",), rest=145, turn=95, hysteresis=8),
        # Head-on the forearm points at the camera; the hand's height over the elbow still shows the curl.
        PhaseDriver(measure="raised_forearm", rest=-0.6, turn=0.1, hysteresis=0.1),
    ),
    phases=PhaseNames(rest="down", away="curling", turn="up", back="lowering"),
    eccentric="back",
    faults=(
        FaultRule(id="elbow_drift", title="elbows drifting forward", measure="upper_arm_forward",
                  aggregate="max", above=20, views=("side",), cue="Keep your elbows pinned to your sides"),
        FaultRule(id="partial_range", title="not curling all the way up", measure="bent_elbow_angle",
                  aggregate="min", above=65, views=("side",), cue="Curl all the way up"),
    ),
    preferred_views=("side",),
    view_guidance="Turn sideways so I can see your elbows",
    needs_parts=("shoulders", "elbows", "hands"),
    partial_cue="Curl all the way up",
    depth=DepthMeasure(measure="bent_elbow_angle", aggregate="min"),
    min_rep_s=0.6,
)
