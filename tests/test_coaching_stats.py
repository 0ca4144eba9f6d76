"""Events as JSON, session statistics and the Coach facade."""

from __future__ import annotations

import json

import pytest

from coaching.coach import Coach
from coaching.motion import MotionReading
from coaching.recognition import Recognition
from coaching.events import (
    Event,
    ExerciseChanged,
    RepCompleted,
    SetCompleted,
    event_from_json,
    event_to_json,
)
from coaching.exercises import EXERCISES
from tests.coaching_sequences import Sequence, concat, generate, still

pytestmark = pytest.mark.offline  # scripts/test.sh runs it beside another offline test


def play(coach: Coach, seq: Sequence, t0: float = 0.0) -> list[Event]:
    events: list[Event] = []
    for kp, t in seq:
        events += coach.update(kp, seq.width, seq.height, t0 + t)
    return events


def test_events_round_trip_as_plain_json() -> None:
    coach = Coach("squat")
    events = play(coach, concat(generate("squat", reps=2, view="side", faults={"depth": 60}, seed=1),
                                still(9.0, "side", seed=2)))
    kinds = {e.type for e in events}
    assert {"phase_changed", "rep_completed", "fault_detected", "set_completed"} <= kinds
    for e in events:
        data = event_to_json(e)
        text = json.dumps(data)  # no numpy scalars anywhere
        assert event_from_json(json.loads(text)) == e
        assert data["type"] == e.type and isinstance(data["t"], float)


def test_facts_and_summary_after_two_sets() -> None:
    coach = Coach("squat")
    seq = concat(generate("squat", reps=3, view="side", faults={"depth": 60}, seed=3), still(10.0, "side", seed=4),
                 generate("squat", reps=2, view="side", seed=5))
    play(coach, seq)
    facts = coach.facts()
    assert facts["exercise"] == "squat" and facts["mode"] == "manual" and facts["view"] == "side"
    assert facts["set"] == 2 and facts["reps_this_set"] == 2 and facts["reps_total"] == 5
    assert facts["sets_completed"] == 1
    assert facts["last_set"]["reps"] == 3 and facts["last_set"]["faults"] == {"depth": 3}
    assert facts["faults_total"] == {"depth": 3} and facts["faults_this_set"] == {}
    assert facts["last_rep"]["depth"]["measure"] == "knee_angle" and facts["last_rep"]["depth"]["value"] < 60
    json.dumps(facts)
    lines = coach.summary_lines()
    assert lines[0] == "Exercise: squat."
    # One count per line, each saying what it counts: the small model added "reps so far" to "reps in
    # total" (5 + 5 = 10) when they shared a line, and answered the total when asked about this set.
    assert "This set (set 2): 2 reps so far." in lines
    assert "Total today: 5 squat reps, this set included." in lines
    last_rep = next(line for line in lines if line.startswith("Last rep: depth, knee angle at the turning point"))
    assert "degrees; took " in last_rep and " s lowering and " in last_rep  # the rep's time, so no sum is made up
    previous = next(line for line in lines if line.startswith("Previous set (set 1): 3 reps in "))
    assert previous.endswith(" seconds; depth above parallel in 3 of 3 reps.")


def test_the_first_set_has_no_total_and_no_rep_says_nothing_is_measured() -> None:
    coach = Coach("squat")
    assert coach.summary_lines() == ["Exercise: squat.", "This set (set 1): 0 reps so far.",
                                     "No rep seen yet: no depth or tempo measured."]
    play(coach, generate("squat", reps=2, view="side", seed=3))
    lines = coach.summary_lines()
    assert "This set (set 1): 2 reps so far." in lines
    assert not any(line.startswith("Total") for line in lines)  # it would only repeat the set's count


def test_one_rep_is_said_as_one_rep() -> None:
    """The facts are read aloud and copied by the LLM: "1 rep", never "1 reps"."""
    coach = Coach("squat")
    play(coach, generate("squat", reps=1, view="side", faults={"depth": 60}, seed=3))
    lines = coach.summary_lines()
    assert "This set (set 1): 1 rep so far." in lines
    assert "Faults this set: depth above parallel in 1 of 1 rep." in lines
    assert not any("1 reps" in line for line in lines)


def test_summary_is_empty_before_anything_happens() -> None:
    coach = Coach()
    assert coach.summary_lines() == [] and coach.facts()["exercise"] is None
    assert coach.update(None, 640, 480, 0.0) == []  # auto mode, nobody yet: nothing to analyse


def test_user_switches_exercise_mid_session() -> None:
    coach = Coach("squat")
    events = play(coach, generate("squat", reps=3, view="side", seed=6, tail_s=0.5))
    t = 20.0
    switch = coach.choose("push_up", t)
    assert [type(e) for e in switch] == [SetCompleted, ExerciseChanged]
    assert switch[0].reps == 3 and switch[1].previous == "squat" and switch[1].source == "user"
    events += play(coach, generate("push_up", reps=4, view="side", seed=7), t0=t)
    assert coach.exercise == "push_up" and coach.analyzer is not None and coach.analyzer.reps == 4
    facts = coach.facts()
    assert facts["reps_total"] == 4 and facts["totals"]["squat"]["reps"] == 3
    assert "Earlier this session: squat: 3 reps." in coach.summary_lines()
    with pytest.raises(ValueError):
        coach.choose("cartwheel", t)


class ScriptedRecognizer:
    """Test double: announces exercises at given times."""

    def __init__(self, script: dict[float, str]) -> None:
        self.script = dict(script)
        self.resets = 0

    def update(self, reading: MotionReading) -> Recognition | None:
        for when in sorted(self.script):
            if reading.t >= when:
                return Recognition(exercise=self.script.pop(when), confidence=0.9)
        return None

    def settle(self, readings: object) -> Recognition | None:
        return None

    def settle_candidate(self, readings: object) -> Recognition | None:
        return None

    def confirm(self, decision: Recognition) -> None:
        raise AssertionError("no candidate was offered")

    def reset(self) -> None:
        self.resets += 1


def test_auto_mode_follows_the_recogniser() -> None:
    rec = ScriptedRecognizer({0.5: "squat", 12.0: "jumping_jack"})
    coach = Coach(recognizer=rec)
    seq = concat(generate("squat", reps=3, view="side", seed=8, tail_s=0.5), still(1.0, "front"),
                 generate("jumping_jack", reps=5, view="front", seed=9))
    events = play(coach, seq)
    changes = [e for e in events if isinstance(e, ExerciseChanged)]
    assert [(c.exercise, c.previous, c.source) for c in changes] == [("squat", None, "recognizer"),
                                                                    ("jumping_jack", "squat", "recognizer")]
    assert sum(isinstance(e, RepCompleted) and e.exercise == "squat" for e in events) == 3
    assert coach.facts()["totals"]["squat"]["reps"] == 3
    coach.choose("auto", 30.0)
    assert rec.resets == 1 and coach.mode == "auto"


def test_every_exercise_is_registered_with_cues() -> None:
    assert set(EXERCISES) == {"squat", "push_up", "lunge", "jumping_jack", "bicep_curl", "shoulder_press", "plank",
                              "front_raise", "lateral_raise", "shoulder_shrug", "sit_up", "pull_up", "glute_bridge",
                              "mountain_climber", "deadlift"}
    for spec in EXERCISES.values():
        assert spec.faults and all(f.cue and len(f.cue.split()) <= 10 for f in spec.faults)
        json.dumps(spec.model_dump(mode="json"))


def test_a_rep_counted_on_the_learned_progress_alone_is_described_without_an_angle() -> None:
    """When the joints of the exercise's own measure were not seen, the rep's range is the learned
    model's progress: the facts say so instead of failing (it failed every answer once)."""
    from coaching.events import RangeOfMotion, Tempo
    from coaching.session_stats import SessionStats
    from coaching.spec import MOTION_PROGRESS

    stats = SessionStats()
    stats.observe([RepCompleted(
        t=3.0, exercise="squat", rep=1, set=1, rep_in_set=1, duration_s=2.0, phases=[],
        rom=RangeOfMotion(measure=MOTION_PROGRESS, min=0.1, max=0.9, unit="fraction of the rep"),
        tempo=Tempo(eccentric_s=1.0, concentric_s=1.0), faults=[], view="front")])
    assert any("depth not measured" in line for line in stats.summary_lines())
