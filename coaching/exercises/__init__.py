"""Exercise definitions, one file each. A new exercise is one new file plus one line below."""

from coaching.exercises import (
    bicep_curl,
    deadlift,
    front_raise,
    glute_bridge,
    jumping_jack,
    lateral_raise,
    lunge,
    mountain_climber,
    plank,
    pull_up,
    push_up,
    shoulder_press,
    shoulder_shrug,
    sit_up,
    squat,
)
from coaching.spec import ExerciseSpec

EXERCISES: dict[str, ExerciseSpec] = {
    spec.name: spec
    for spec in (
        squat.SPEC,
        push_up.SPEC,
        lunge.SPEC,
        jumping_jack.SPEC,
        bicep_curl.SPEC,
        shoulder_press.SPEC,
        plank.SPEC,
        front_raise.SPEC,
        lateral_raise.SPEC,
        shoulder_shrug.SPEC,
        sit_up.SPEC,
        pull_up.SPEC,
        glute_bridge.SPEC,
        mountain_climber.SPEC,
        deadlift.SPEC,
    )
}
