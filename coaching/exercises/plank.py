"""Plank hold (high or forearm).

Fault thresholds calibrated on real labelled frames (Gym-Exercise-Correction, forearm planks) by
scripts/calibrate_faults.py: each is the loosest that flags at most 3% of the frames labelled
correct. In a correct forearm plank the hip keypoint sits above the shoulder-ankle line (down to
about -0.07 body lengths), so a pike is only called beyond that. From a three-quarter view (the
"unknown" view) the body line is foreshortened: twice those offsets flag 3% of the correct frames
seen that way (9 of 275), and half of the wrong ones (199 of 380).
"""

from coaching.spec import Condition, ExerciseSpec, FaultRule, HoldSpec

SPEC = ExerciseSpec(
    name="plank",
    title="Plank",
    kind="hold",
    hold=HoldSpec(
        # Lying: trunk and legs both far from vertical. With the hips piked high the legs slope down
        # to the feet at 38-55 degrees (Gym-Exercise-Correction's wrong planks): still a plank, to be
        # told to lower the hips, not a position the coach cannot judge.
        conditions=(Condition(measure="torso_lean", min=55), Condition(measure="leg_incline", min=35)),
        views=("side", "unknown"),
    ),
    faults=(
        FaultRule(id="hips_sag", title="hips sagging", measure="hip_sag", aggregate="max", above=0.045,
                  views=("side",), unsure_views=("unknown",), cue="Squeeze your glutes, lift your hips a little"),
        FaultRule(id="hips_pike", title="hips piking up", measure="hip_sag", aggregate="min", below=-0.075,
                  views=("side",), unsure_views=("unknown",), cue="Lower your hips into a straight line"),
    ),
    preferred_views=("side",),
    view_guidance="Turn sideways so I can see your body line",
    needs_parts=("shoulders", "hips", "feet"),
)
