"""Names shared by the corpus and the live analysis: exercise ids and fault ids.

The vision side and the corpus may spell an exercise differently ("push-up", "pushup",
"push_up"); everything is reduced to one snake_case id here so that front matter, the
retriever's exercise filter and fault tags compare equal.
"""

from __future__ import annotations

import re

# The exercises the vision side supports, as the corpus front matter names them.
EXERCISES: tuple[str, ...] = (
    "squat", "push_up", "lunge", "jumping_jack", "bicep_curl", "shoulder_press", "plank", "front_raise",
    "lateral_raise", "shoulder_shrug", "sit_up", "pull_up", "glute_bridge", "mountain_climber", "deadlift",
)

_ALIASES = {
    "squats": "squat",
    "pushup": "push_up",
    "pushups": "push_up",
    "push_ups": "push_up",
    "press_up": "push_up",
    "lunges": "lunge",
    "jumping_jacks": "jumping_jack",
    "jumpingjack": "jumping_jack",
    "star_jump": "jumping_jack",
    "curl": "bicep_curl",
    "curls": "bicep_curl",
    "biceps_curl": "bicep_curl",
    "bicep_curls": "bicep_curl",
    "overhead_press": "shoulder_press",
    "ohp": "shoulder_press",
    "military_press": "shoulder_press",
    "press": "shoulder_press",
    "planks": "plank",
    "front_raises": "front_raise",
    "front_delt_raise": "front_raise",
    "lateral_raises": "lateral_raise",
    "side_raise": "lateral_raise",
    "side_raises": "lateral_raise",
    "side_lateral_raise": "lateral_raise",
    "lat_raise": "lateral_raise",
    "lat_raises": "lateral_raise",
    "shrug": "shoulder_shrug",
    "shrugs": "shoulder_shrug",
    "shoulder_shrugs": "shoulder_shrug",
    "situp": "sit_up",
    "situps": "sit_up",
    "sit_ups": "sit_up",
    "crunch": "sit_up",
    "crunches": "sit_up",
    "pullup": "pull_up",
    "pullups": "pull_up",
    "pull_ups": "pull_up",
    "chin_up": "pull_up",
    "chinup": "pull_up",
    "chin_ups": "pull_up",
    "chinups": "pull_up",
    "glute_bridges": "glute_bridge",
    "bridge": "glute_bridge",
    "bridges": "glute_bridge",
    "hip_bridge": "glute_bridge",
    "hip_thrust": "glute_bridge",
    "hip_thrusts": "glute_bridge",
    "mountain_climbers": "mountain_climber",
    "climbers": "mountain_climber",
    "deadlifts": "deadlift",
    "dead_lift": "deadlift",
    "rdl": "deadlift",
    "rdls": "deadlift",
    "romanian_deadlift": "deadlift",
}

# How an exercise id reads in a query sentence.
_LABELS = {
    "push_up": "push-up",
    "jumping_jack": "jumping jack",
    "bicep_curl": "bicep curl",
    "shoulder_press": "shoulder press",
    "sit_up": "sit-up",
    "pull_up": "pull-up",
}


def snake(name: str) -> str:
    """'Knees caving-in' -> 'knees_caving_in'."""
    return re.sub(r"[^0-9a-z]+", "_", name.strip().lower()).strip("_")


def exercise_id(name: str) -> str | None:
    """The canonical exercise id for a spelling, or None when it is not a supported exercise."""
    key = snake(name)
    key = _ALIASES.get(key, key)
    return key if key in EXERCISES else None


def exercise_label(exercise: str) -> str:
    """A canonical id as words, for building query text."""
    return _LABELS.get(exercise, exercise.replace("_", " "))


def fault_phrase(fault: str) -> str:
    """A fault id as words ('knees_caving' -> 'knees caving'), for building query text."""
    return snake(fault).replace("_", " ")
