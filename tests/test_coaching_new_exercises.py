"""The exercises added after the first seven: counting, faults and silence on generated sequences.

Each exercise is a spec (coaching/exercises/) over named measures, so these tests check the data:
that its drivers count exactly from the side and from the front, that each fault rule fires on
the movement it names and on nothing else, and that standing or walking about is never a rep.
"""

from __future__ import annotations

from collections import Counter

import pytest

from coaching.analyzer import PARTIAL_FAULT
from coaching.events import FaultDetected, RepCompleted, SetCompleted
from coaching.exercises import EXERCISES
from rag_index.vocabulary import EXERCISES as KNOWN_TO_THE_CORPUS
from rag_index.vocabulary import exercise_id
from tests.coaching_sequences import generate, still, walk
from tests.test_coaching_faults import analyse, fault_counts

pytestmark = pytest.mark.offline  # scripts/test.sh runs it beside another offline test

NEW = ["front_raise", "lateral_raise", "shoulder_shrug", "sit_up", "pull_up", "glute_bridge", "mountain_climber",
       "deadlift"]


def test_every_new_exercise_is_registered_as_data() -> None:
    for name in NEW:
        spec = EXERCISES[name]
        assert spec.kind == "reps" and 1 <= len(spec.faults) <= 3 and spec.partial_cue and spec.depth
        views = {v for d in spec.drivers for v in d.views}
        assert {"side", "front"} <= views, f"{name} cannot count from every view"
        assert all(len(f.cue.split()) <= 10 for f in spec.faults)
        for rule in spec.faults:  # every rule is judged from a view the exercise can count from
            assert set(rule.views) & views


@pytest.mark.parametrize("exercise", NEW)
@pytest.mark.parametrize("view", ["side", "front"])
@pytest.mark.parametrize(("reps", "seed"), [(3, 101), (6, 102)])
def test_counts_exactly(exercise: str, view: str, reps: int, seed: int) -> None:
    analyzer, events = analyse(generate(exercise, reps=reps, view=view, noise_px=2.0, drop_prob=0.03,
                                        seed=seed))
    assert analyzer.reps == reps
    assert [e.rep for e in events if isinstance(e, RepCompleted)] == list(range(1, reps + 1))


def test_mountain_climber_counts_each_knee_drive_either_leg() -> None:
    """Reps alternate legs in the generated set: five drives (left, right, left ...) are five reps."""
    analyzer, events = analyse(generate("mountain_climber", reps=5, view="side", seed=103))
    reps = [e for e in events if isinstance(e, RepCompleted)]
    assert analyzer.reps == 5 and all(r.depth is not None and r.depth.value > 40 for r in reps)


# (exercise, view, injected fault parameters, the fault rule that names it)
INJECTED = [
    ("front_raise", "side", {"top": 125}, "arms_too_high"),
    ("front_raise", "front", {"top": 125}, "arms_too_high"),
    ("front_raise", "side", {"swing": 18}, "torso_swing"),
    ("lateral_raise", "front", {"top": 120}, "elbows_too_high"),
    ("lateral_raise", "front", {"shrug": 0.07}, "shrugging"),
    ("lateral_raise", "side", {"shrug": 0.07}, "shrugging"),
    ("shoulder_shrug", "side", {"bend": 60}, "bent_arms"),
    ("shoulder_shrug", "front", {"bend": 60}, "bent_arms"),
    ("sit_up", "side", {"feet": 0.12}, "feet_lift"),
    ("sit_up", "side", {"neck": 60}, "neck_pull"),
    ("pull_up", "side", {"top": 0.27}, "chin_below_bar"),
    ("pull_up", "front", {"top": 0.27}, "chin_below_bar"),
    ("pull_up", "side", {"kip": 60}, "kipping"),
    ("glute_bridge", "side", {"lift": 16}, "hips_low"),
    ("glute_bridge", "front", {"cave": 0.08}, "knees_cave"),
    ("mountain_climber", "side", {"pike": 0.15}, "hips_pike"),
    ("deadlift", "side", {"lockout": 152}, "no_lockout"),
    ("deadlift", "side", {"drift": 0.15}, "bar_drift"),
]


def test_every_new_fault_is_injected_somewhere() -> None:
    injected = {(exercise, fault) for exercise, _, _, fault in INJECTED}
    assert injected == {(name, rule.id) for name in NEW for rule in EXERCISES[name].faults}


@pytest.mark.parametrize(("exercise", "view", "faults", "fault_id"), INJECTED)
def test_injected_fault_fires_in_every_rep(exercise: str, view: str, faults: dict, fault_id: str) -> None:
    analyzer, events = analyse(generate(exercise, reps=3, view=view, faults=faults, seed=104))
    assert analyzer.reps == 3
    assert fault_counts(events) == Counter({fault_id: 3})
    cue = next(e for e in events if isinstance(e, FaultDetected))
    assert cue.cue == EXERCISES[exercise].fault(fault_id).cue and cue.rep == 1


@pytest.mark.parametrize("exercise", NEW)
@pytest.mark.parametrize("view", ["side", "front"])
def test_clean_form_fires_nothing(exercise: str, view: str) -> None:
    analyzer, events = analyse(generate(exercise, reps=4, view=view, noise_px=2.0, drop_prob=0.03,
                                        seed=105))
    assert analyzer.reps == 4
    assert not fault_counts(events)


# Movements that turn back between the start position and the turning point (measured on the
# generator: past the midpoint, short of the turn).
HALF = [
    ("front_raise", {"top": 68}), ("lateral_raise", {"top": 68}), ("sit_up", {"top": 29}),
    ("pull_up", {"top": 0.345}), ("glute_bridge", {"lift": 13}), ("mountain_climber", {"drive": 39}),
    ("deadlift", {"depth": 28}),
]


@pytest.mark.parametrize(("exercise", "faults"), HALF)
def test_half_movements_are_not_reps_and_hear_the_partial_cue(exercise: str, faults: dict) -> None:
    view = EXERCISES[exercise].preferred_views[0]  # the partial cue is said only where the range shows
    analyzer, events = analyse(generate(exercise, reps=3, view=view, faults=faults, seed=106))
    assert analyzer.reps == 0
    partial = [e for e in events if isinstance(e, FaultDetected) and e.fault == PARTIAL_FAULT]
    assert len(partial) == 3 and partial[0].cue == EXERCISES[exercise].partial_cue


@pytest.mark.parametrize("exercise", NEW)
@pytest.mark.parametrize("view", ["side", "front"])
def test_standing_still_and_walking_count_nothing(exercise: str, view: str) -> None:
    for seq in (still(10.0, view, noise_px=3.0, drop_prob=0.05, seed=107), walk(10.0, view, seed=108)):
        analyzer, events = analyse(seq, exercise)
        assert analyzer.reps == 0
        assert not [e for e in events if isinstance(e, (RepCompleted, SetCompleted, FaultDetected))]


def test_the_knowledge_base_knows_the_new_exercises_and_their_names() -> None:
    assert set(EXERCISES) <= set(KNOWN_TO_THE_CORPUS)
    spoken = {"crunch": "sit_up", "Sit-ups": "sit_up", "chin up": "pull_up", "chin-up": "pull_up",
              "pullups": "pull_up", "RDL": "deadlift", "romanian deadlift": "deadlift", "hip thrust": "glute_bridge",
              "shrug": "shoulder_shrug", "side raises": "lateral_raise", "mountain climbers": "mountain_climber",
              "front raises": "front_raise"}
    assert {said: exercise_id(said) for said in spoken} == spoken
