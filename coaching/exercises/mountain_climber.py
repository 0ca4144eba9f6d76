"""Mountain climber: from a high plank, knees driven toward the chest, legs alternating."""

from coaching.spec import DepthMeasure, ExerciseSpec, FaultRule, PhaseDriver, PhaseNames

SPEC = ExerciseSpec(
    name="mountain_climber",
    title="Mountain climber",
    drivers=(
        # One rep per knee drive, either leg: the difference between the two hip angles is about 0
        # with both legs back and about 60 deg with either knee in. (The smaller of the two hip
        # angles would count both legs too, but in running-style climbers, where the legs switch
        # in mid-air, it never gets back to its start; the difference passes 0 at every switch.)
        PhaseDriver(measure="knee_drive", views=("side",), rest=18, turn=40, hysteresis=6),
        # Head-on the hip angles are foreshortened; the driven knee still drops toward the floor.
        PhaseDriver(measure="knee_height_split", views=("front", "unknown"), rest=0.2, turn=0.5, hysteresis=0.06),
    ),
    phases=PhaseNames(rest="plank", away="driving", turn="knee in", back="returning"),
    eccentric="back",
    faults=(
        FaultRule(id="hips_pike", title="hips piking up", measure="support_hip_sag", aggregate="min",
                  below=-0.08, views=("side",), cue="Keep your hips down in line with your shoulders"),
    ),
    preferred_views=("side",),
    view_guidance="Turn sideways so I can see your hips and knees",
    needs_parts=("shoulders", "hips", "knees", "feet"),
    partial_cue="Drive your knee further in",
    depth=DepthMeasure(measure="knee_drive", aggregate="max"),
    min_rep_s=0.25,
    max_rep_s=4.0,
    set_rest_s=5.0,
)
