"""Hybrid retrieval over the shipped corpus with the real all-MiniLM-L6-v2."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from rag_index.retriever import Passage, Retriever, truncate_query

pytestmark = pytest.mark.offline  # scripts/test.sh runs it beside another offline test


@pytest.fixture(scope="module")
def retriever(tmp_path_factory: pytest.TempPathFactory) -> Retriever:
    return Retriever(tmp_path_factory.mktemp("rag") / "index")


def top_ids(passages: list[Passage]) -> list[str]:
    return [p.doc_id for p in passages]


@pytest.mark.parametrize(
    ("question", "doc_id"),
    [
        ("my knees keep collapsing toward each other when I stand up from a squat", "squat-knees-caving"),
        ("how many minutes of rest do I need between two sets", "rest-between-sets"),
        ("my heels lift off the ground at the bottom", "squat-heels-rising"),
        ("I got chest pain and feel faint, should I keep exercising", "when-to-stop"),
        ("how do I brace my core before lifting", "bracing"),
        ("what does DOMS mean", "muscle-soreness"),
    ],
)
def test_the_relevant_document_comes_first(retriever: Retriever, question: str, doc_id: str) -> None:
    assert top_ids(retriever.search(question))[0] == doc_id


def test_the_current_exercise_decides_between_similar_faults(retriever: Retriever) -> None:
    question = "my hips keep dropping toward the floor"
    assert top_ids(retriever.search(question, exercise="plank"))[0] == "plank-hip-sag"
    assert top_ids(retriever.search(question, exercise="push_up"))[0] == "push-up-hip-sag"
    assert top_ids(retriever.search(question, exercise="Push-ups"))[0] == "push-up-hip-sag"


def test_active_faults_turn_a_vague_question_into_a_specific_one(retriever: Retriever) -> None:
    vague = top_ids(retriever.search("what am I doing wrong"))
    assert "squat-knees-caving" not in vague
    assert top_ids(retriever.search("what am I doing wrong", exercise="squat", faults=["knees_cave"]))[0] == (
        "squat-knees-caving"
    )
    assert top_ids(retriever.search("any tips?", exercise="bicep_curl", faults=["elbow_drift"]))[0] == (
        "bicep-curl-elbow-drift"
    )


# The fault ids coaching/exercises/*.py report, and the document that explains each.
FAULT_DOCS = [
    ("squat", "depth", "squat-depth"),
    ("squat", "knees_cave", "squat-knees-caving"),
    ("squat", "forward_lean", "squat-forward-lean"),
    ("squat", "heels_rise", "squat-heels-rising"),
    ("push_up", "hips_sag", "push-up-hip-sag"),
    ("push_up", "hips_pike", "push-up-hip-pike"),
    ("push_up", "partial_range", "push-up-partial-range"),
    ("plank", "hips_sag", "plank-hip-sag"),
    ("plank", "hips_pike", "plank-hips-high"),
    ("lunge", "knee_past_toes", "lunge-knee-tracking"),
    ("lunge", "knee_cave", "lunge-knee-tracking"),
    ("lunge", "torso_lean", "lunge-torso-lean"),
    ("jumping_jack", "arms_low", "jumping-jack-faults"),
    ("jumping_jack", "feet_narrow", "jumping-jack-faults"),
    ("bicep_curl", "elbow_drift", "bicep-curl-elbow-drift"),
    ("bicep_curl", "partial_range", "bicep-curl-range"),
    ("shoulder_press", "back_arch", "shoulder-press-back-arch"),
    ("shoulder_press", "partial_lockout", "shoulder-press-lockout"),
    ("front_raise", "arms_too_high", "front-raise-too-high"),
    ("front_raise", "torso_swing", "front-raise-torso-swing"),
    ("lateral_raise", "elbows_too_high", "lateral-raise-too-high"),
    ("lateral_raise", "shrugging", "lateral-raise-shrugging"),
    ("shoulder_shrug", "bent_arms", "shoulder-shrug-bent-arms"),
    ("sit_up", "feet_lift", "sit-up-feet-lifting"),
    ("sit_up", "neck_pull", "sit-up-neck-pulling"),
    ("pull_up", "chin_below_bar", "pull-up-chin-below-bar"),
    ("pull_up", "kipping", "pull-up-kipping"),
    ("glute_bridge", "hips_low", "glute-bridge-hips-low"),
    ("glute_bridge", "knees_cave", "glute-bridge-knees-caving"),
    ("mountain_climber", "hips_pike", "mountain-climber-hips-pike"),
    ("deadlift", "no_lockout", "deadlift-lockout"),
    ("deadlift", "bar_drift", "deadlift-bar-drift"),
]


@pytest.mark.parametrize(("exercise", "fault", "doc_id"), FAULT_DOCS)
def test_every_detected_fault_finds_its_document(retriever: Retriever, exercise: str, fault: str, doc_id: str) -> None:
    assert top_ids(retriever.search("what should I change?", exercise=exercise, faults=[fault]))[0] == doc_id


@pytest.mark.parametrize("query", ["", "   ", "\n\t"])
def test_empty_query_without_context_returns_nothing(retriever: Retriever, query: str) -> None:
    assert retriever.search(query) == []


def test_empty_query_with_context_searches_the_context(retriever: Retriever) -> None:
    assert top_ids(retriever.search("", exercise="squat", faults=["heels_rise"]))[0] == "squat-heels-rising"


def test_very_long_query_is_truncated_not_a_failure(retriever: Retriever) -> None:
    passages = retriever.search("how deep should I go in my squat " * 2000)
    assert "squat-depth" in top_ids(passages)


def test_excerpt_keeps_the_sentences_that_answer_within_the_budget(retriever: Retriever) -> None:
    (passage,) = retriever.search("How should I breathe during a squat?", k=1)
    assert len(passage.text) > 160
    note = retriever.excerpt(passage, "How should I breathe during a squat?", 160)
    assert note.doc_id == passage.doc_id and len(note.text) < len(passage.text)
    assert "breathe" in note.text.lower()
    assert all(part.strip(" -") in passage.text for part in note.text.split(". "))  # its own sentences, not new text
    assert retriever.excerpt(note, "anything", 1000) is note  # short enough already: unchanged


def test_clipped_excerpt_ends_at_a_clause_within_the_budget(retriever: Retriever) -> None:
    query = "Why do my knees cave in?"
    (passage,) = retriever.search(query, k=1)
    whole = retriever.excerpt(passage, query, 100)
    assert len(whole.text) > 100  # its best sentence is longer than the budget: kept whole
    note = retriever.excerpt(passage, query, 100, clip=True)
    assert len(note.text) <= 101 and note.text.endswith(".")  # this sentence has commas to cut at
    assert whole.text.startswith(note.text[:-1])  # the start of that sentence, not new text
    assert "hip" in note.text  # the cause the question asks for survives the cut


def test_truncate_query_cuts_at_a_word_boundary() -> None:
    assert truncate_query("  knees   out\nplease ", 100) == "knees out please"
    assert truncate_query("alpha beta gamma", 12) == "alpha beta"
    assert truncate_query("x" * 50, 10) == "x" * 10


@pytest.mark.parametrize(
    "query",
    ["wie tief soll ich in die Kniebeuge gehen", "我的膝盖在深蹲时向内扣", "كم يجب أن أرتاح بين المجموعات", "🏋️💪🔥", "\x00\x01"],
)
def test_other_languages_and_odd_text_do_not_crash(retriever: Retriever, query: str) -> None:
    passages = retriever.search(query, exercise="squat")
    assert all(isinstance(p, Passage) for p in passages)


@pytest.mark.parametrize("query", ["what is the capital of France", "tell me a joke", "I like turtles"])
def test_off_topic_talk_retrieves_nothing(retriever: Retriever, query: str) -> None:
    assert retriever.search(query) == []


def test_passages_are_distinct_ranked_and_cited(retriever: Retriever) -> None:
    passages = retriever.search("how should I breathe during a squat", k=5)
    assert len(passages) == 5
    assert len(set(top_ids(passages))) == 5
    assert [p.score for p in passages] == sorted((p.score for p in passages), reverse=True)
    for p in passages:
        assert p.chunk_id.startswith(f"{p.doc_id}#") and p.title and p.text and p.sources
    assert retriever.search("how should I breathe", k=0) == []


def test_unknown_exercise_is_ignored(retriever: Retriever) -> None:
    assert top_ids(retriever.search("how long should I rest between sets", exercise="kettlebell swing"))[0] == (
        "rest-between-sets"
    )


@pytest.mark.parametrize("mode", ["dense", "keyword"])
def test_single_signal_modes_work_alone(retriever: Retriever, mode: str) -> None:
    assert top_ids(retriever.search("how long should I hold a plank", mode=mode))[0] == "plank-duration"


def test_concurrent_searches_agree_with_sequential_ones(retriever: Retriever) -> None:
    questions = [
        "why do my knees cave in",
        "how long should I rest",
        "my back arches when pressing overhead",
        "should I breathe out when pushing",
        "my elbows move during curls",
        "how many reps for muscle",
    ] * 3
    expected = [top_ids(retriever.search(q)) for q in questions]
    with ThreadPoolExecutor(max_workers=4) as pool:
        assert list(pool.map(lambda q: top_ids(retriever.search(q)), questions)) == expected

