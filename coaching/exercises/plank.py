"""Plank hold (high or forearm).

Fault thresholds calibrated on real labelled frames (Gym-Exercise-Correction, forearm planks) by
scripts/calibrate_faults.py: each is the loosest that flags at most 3% of the frames labelled
correct. In a correct forearm plank the hip keypoint sits above the shoulder-ankle line (down to
about -0.07 body lengths), so a pike is only called beyond that.
"""

from coaching.spec import Condition, ExerciseSpec, FaultRule, HoldSpec

SPEC = ExerciseSpec(
    name="plank",
    title="Plank",
    kind="hold",
    hold=HoldSpec(
        # Lying: trunk and legs both far from vertical.
        conditions=(Condition(measure="torso_lean", min=55), Condition(measure="leg_incline", min=55)),
        views=("side", "unknown"),
    ),
    faults=(
        FaultRule(id="hips_sag", title="hips sagging", measure="hip_sag", aggregate="max", above=0.045,
                  views=("side",), cue="Squeeze your glutes, lift your hips a little"),
        FaultRule(id="hips_pike", title="hips piking up", measure="hip_sag", aggregate="min", below=-0.075,
                  views=("side",), cue="Lower your hips into a straight line"),
    ),
    preferred_views=("side",),
    view_guidance="Turn sideways so I can see your body line",
    needs_parts=("shoulders", "hips", "feet"),
)
