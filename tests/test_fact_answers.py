"""Answers from the measured facts: which questions get one, and that every number is a measured one.

The embedder is the real MiniLM the knowledge base uses; the facts come from the real analysis of
generated sets (tests/coaching_sequences.py).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from coaching.coach import Coach
from coaching.session_stats import SessionStats, fault_title
from models.embeddings import EmbeddingOptions, load_embedder
from models.health import HealthRegistry
from realtime.config import load_settings
from realtime.model_hub import ModelHub
from realtime.voice import fact_answers
from realtime.voice.fact_answers import FactAnswerer, FactQuestion
from tests.coaching_sequences import concat, generate, still

pytestmark = pytest.mark.offline  # scripts/test.sh runs it beside another offline test


@pytest.fixture(scope="module")
def answerer() -> FactAnswerer:
    return FactAnswerer(load_embedder(EmbeddingOptions()).embed, seed=1)


def measured(exercise: str, sequence: Any) -> dict[str, Any]:
    coach = Coach(exercise)
    for keypoints, t in sequence:
        coach.update(keypoints, sequence.width, sequence.height, float(t))
    return coach.facts()


def numbers(text: str) -> set[str]:
    return set(re.findall(r"\d+(?:\.\d+)?", text))


# Phrasings that are not among the answerer's examples.
@pytest.mark.parametrize(("question", "kind"), [
    ("What's my rep count?", FactQuestion.REPS_SET),
    ("How many lunges did I do?", FactQuestion.REPS_SET),
    ("How many reps today in total?", FactQuestion.REPS_TOTAL),
    ("Did I hit depth?", FactQuestion.DEPTH),
    ("How low did my last squat go?", FactQuestion.DEPTH),
    ("How long was that rep?", FactQuestion.TEMPO),
    ("How's my form looking?", FactQuestion.FAULTS),
    ("How long have I been in the plank?", FactQuestion.HOLD),
    ("Which set am I on?", FactQuestion.SETS),
])
def test_fact_questions_are_recognised(answerer: FactAnswerer, question: str, kind: FactQuestion) -> None:
    assert answerer.classify(question)[0] is kind


@pytest.mark.parametrize("question", [
    "How many reps should I do to build muscle?", "How deep should I squat?", "Why do my knees cave in?",
    "How long should I rest between sets?", "What muscles do squats work?", "How many calories did I burn?",
    "How many push-ups can an average person do?", "Is squatting bad for the knees?", "Tell me a joke",
    "How long is a plank supposed to be?", "",
])
def test_advice_and_everything_else_go_to_the_llm(answerer: FactAnswerer, question: str) -> None:
    assert answerer.answer(question, SessionStats().facts()) is None


def test_every_number_said_is_a_measured_one(answerer: FactAnswerer) -> None:
    facts = measured("squat", concat(
        generate("squat", reps=5, view="side", seed=6), still(12.0, view="side", seed=7),
        generate("squat", reps=3, view="side", faults={"depth": 60.0}, seed=8)))
    assert facts["reps_this_set"] == 3 and facts["reps_total"] == 8
    rep = facts["last_rep"]
    expected = {
        "How many reps did I do?": {"3", "8"},
        "How many reps in total today?": {"8"},
        "How deep was my last rep?": {f"{rep['depth']['value']:.0f}"},
        "How fast was that rep?": {f"{rep['duration_s']:.1f}", f"{rep['tempo']['eccentric_s']:.1f}",
                                   f"{rep['tempo']['concentric_s']:.1f}"},
        "Any faults?": {"3"},
        "What set am I on?": {"2", "1"},
    }
    for question, said in expected.items():
        answer = answerer.answer(question, facts)
        assert answer is not None, question
        assert numbers(answer.text) == said, (question, answer.text)
    faults = answerer.answer("Any faults?", facts)
    assert faults is not None
    for fault in facts["faults_this_set"]:
        assert fault_title("squat", fault) in faults.text, faults.text


def test_before_anything_is_measured_it_says_so(answerer: FactAnswerer) -> None:
    for question in ("How many reps did I do?", "How deep was that?", "How fast was that rep?", "Any faults?"):
        answer = answerer.answer(question, SessionStats().facts())
        assert answer is not None and not numbers(answer.text), answer
        assert re.search(r"haven't|nothing|no rep", answer.text, re.IGNORECASE), answer


def test_a_rep_without_a_measured_angle_is_answered_honestly(answerer: FactAnswerer) -> None:
    facts = SessionStats().facts()
    facts.update(exercise="squat", reps_this_set=1, reps_total=1, last_rep={
        "rep": 1, "depth": None, "rom": {"measure": "motion_progress", "min": 0.1, "max": 0.9,
                                         "unit": "fraction of the rep"},
        "tempo": {"eccentric_s": 1.0, "concentric_s": 1.0}, "faults": [], "duration_s": 2.0, "view": "side"})
    answer = answerer.answer("How deep was my last rep?", facts)
    assert answer is not None and "couldn't see" in answer.text and not numbers(answer.text)


def test_a_range_in_body_lengths_is_said_in_its_unit(answerer: FactAnswerer) -> None:
    """A jumping jack's hand height is in torso lengths: "from -0.4 to 1.2 torso lengths", not a
    rounded "from -0 to 1 degrees"."""
    facts = SessionStats().facts()
    facts.update(exercise="jumping_jack", reps_this_set=1, reps_total=1, last_rep={
        "rep": 1, "depth": None, "rom": {"measure": "wrist_height", "min": -0.42, "max": 1.18,
                                         "unit": "torso lengths"},
        "tempo": {"eccentric_s": 0.5, "concentric_s": 0.5}, "faults": [], "duration_s": 1.0, "view": "front"})
    answer = answerer.answer("How deep was my last rep?", facts)
    assert answer is not None and "from -0.4 to 1.2 torso lengths" in answer.text, answer
    assert "degrees" not in answer.text


def test_depth_answers_name_the_turning_point_and_the_view() -> None:
    """A press's depth is at its lockout, a raise's at its top; a rep seen from a view that does not
    show depth says so and how to turn, rather than blaming the joints."""
    answerer = FactAnswerer(load_embedder(EmbeddingOptions()).embed, seed=2)
    press = measured("shoulder_press", generate("shoulder_press", reps=3, view="front", seed=3))
    said = answerer.answer("How deep was my last rep?", press)
    assert said is not None and "lockout" in said.text and "bottom" not in said.text, said
    assert "shoulder presses" in answerer.answer("How many reps did I do?", press).text  # type: ignore[union-attr]
    squat = measured("squat", generate("squat", reps=3, view="front", seed=3))
    assert squat["last_rep"]["view"] == "front" and squat["last_rep"]["depth"] is None
    said = answerer.answer("How deep was my last rep?", squat)
    assert said is not None and "from this angle" in said.text and "Turn sideways" in said.text, said


def test_between_sets_any_faults_is_about_the_set_just_done(answerer: FactAnswerer) -> None:
    facts = measured("squat", concat(generate("squat", reps=3, view="side", faults={"depth": 60.0}, seed=8),
                                     still(12.0, view="side", seed=9)))
    assert facts["reps_this_set"] == 0 and facts["last_set"]["reps"] == 3 and facts["last_set"]["faults"]
    answer = answerer.answer("Any faults?", facts)
    assert answer is not None and answer.text.startswith("In your last set I saw"), answer
    assert all(fault_title("squat", f) in answer.text for f in facts["last_set"]["faults"])


def test_the_fact_answerer_is_ready_when_the_knowledge_base_is(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Its example questions are embedded while the family loads: made in the first fact question's
    answer, they cost that answer 0.3-0.4 s beside a browser's video."""
    hub = ModelHub(load_settings(None, data_dir=tmp_path), HealthRegistry())
    try:
        hub.start_loading(("knowledge",))
        hub.wait_loaded()

        def made_late(*args: object, **kwargs: object) -> None:
            raise AssertionError("the fact answerer was made in the first question's answer")

        monkeypatch.setattr(fact_answers, "FactAnswerer", made_late)
        answer = hub.answer_from_facts("How many reps did I do?", Coach("squat").facts())
        assert answer is not None and answer.question is FactQuestion.REPS_SET
    finally:
        hub.close()
