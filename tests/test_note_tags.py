"""The reply filter that keeps note ids ("[squat-depth]") out of spoken and shown answers."""

from __future__ import annotations

import pytest

from realtime.voice.note_tags import NoteTagFilter


def through(deltas: list[str]) -> str:
    tags = NoteTagFilter()
    return "".join(tags.push(d) for d in deltas) + tags.flush()


@pytest.mark.parametrize(
    ("deltas", "said"),
    [
        (["[", "rest", "-between", "-sets", "]", " For", " beginners,"], "For beginners,"),
        (["[rest-between-sets] For beginners,"], "For beginners,"),
        (["Breathe in at the top", " [breathing", "-during-reps].", " Then out."], "Breathe in at the top . Then out."),
        (["Use 2 sets of", " 8 [", "or 10] reps."], "Use 2 sets of 8 [or 10] reps."),  # not an id: kept
        (["Ends with [", "open"], "Ends with [open"),  # held back, then flushed
        (["No tags here."], "No tags here."),
    ],
)
def test_note_ids_are_dropped_and_nothing_else(deltas: list[str], said: str) -> None:
    assert through(deltas) == said


def test_held_text_is_released_as_soon_as_it_cannot_be_an_id() -> None:
    tags = NoteTagFilter()
    assert tags.push("Knees [") == "Knees "
    assert tags.push("squat") == ""
    assert tags.push(" out") == "[squat out"  # a space: not an id after all
