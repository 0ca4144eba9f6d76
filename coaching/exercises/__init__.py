"""Exercise definitions, one file each. A new exercise is one new file plus one line below."""

from coaching.exercises import bicep_curl, jumping_jack, lunge, plank, push_up, shoulder_press, squat
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
    )
}
