"""The turn's prompt is built so that what is read while the person talks stays a prefix of it."""

from __future__ import annotations

from dataclasses import dataclass

from realtime.voice.responder import NOTES_HEADER, build_messages


@dataclass
class Note:
    doc_id: str
    title: str
    text: str


FACTS = ["Exercise: back squat, set 2.", "Reps completed this set: 7."]
NOTE = Note("rest-between-sets", "Rest between sets", "For beginners, rests of one to two minutes are enough.")


def test_the_facts_and_the_notes_header_are_a_prefix_of_every_turn_prompt() -> None:
    """Read at speech start, before any note is found: whichever note the words then find, or none,
    the cached tokens stay a prefix of the reply's prompt, the header included."""
    early = build_messages("", FACTS, None, [])[-1]["content"]
    assert early.endswith(NOTES_HEADER)
    with_note = build_messages("How long should I rest?", FACTS, [NOTE], [])[-1]["content"]
    without = build_messages("How long should I rest?", FACTS, [], [])[-1]["content"]
    assert with_note.startswith(early) and without.startswith(early)
    assert with_note.removeprefix(early).startswith("[rest-between-sets] For beginners")
    assert without.removeprefix(early).startswith("none relevant.")
    assert with_note.endswith("\n\nQuestion: How long should I rest?")


def test_the_words_so_far_are_a_prefix_of_the_whole_question() -> None:
    so_far = build_messages("How long should", FACTS, [NOTE], [])[-1]["content"]
    whole = build_messages("How long should I rest?", FACTS, [NOTE], [])[-1]["content"]
    assert whole.startswith(so_far)
