"""End of turn: the verdict on a pause from Smart Turn and the words heard, and the real model."""

from __future__ import annotations

import numpy as np
import pytest

from models.paths import weights_dir
from models.turn import SmartTurn, TurnOptions, embedded_model_path, prepare_embedded
from realtime.voice.turn_end import pause_end_ms, words_closed, words_unfinished
from tests.speech import pad, piper_speech, piper_speech_paused

OPTIONS = TurnOptions(threshold=0.5, words_after_ms=700, silence_cap_ms=1800)


@pytest.mark.parametrize(("words", "unfinished"), [
    ("How should I", True),
    ("How should I breathe during a", True),
    ("What was my...", True),
    ("Can you tell me how deep my", True),
    ("um", True),
    ("How many reps did I do?", False),
    ("What should I focus on?", False),
    ("How do I keep my elbows in?", False),
    ("Is my back straight enough?", False),
])
def test_words_a_sentence_does_not_end_on(words: str, unfinished: bool) -> None:
    assert words_unfinished(words) is unfinished


@pytest.mark.parametrize(("words", "closed"), [
    ("How many reps did I do?", True),
    ("Is my back straight enough.", True),
    ("Stop!", True),
    ("Is my back straight enough?\u201d", True),
    ("How do I keep my elbows", False),  # Whisper did not hear a whole sentence
    ("Why do you mind", False),
    ("", False),
])
def test_a_sentence_whisper_heard_whole_is_closed(words: str, closed: bool) -> None:
    assert words_closed(words) is closed


@pytest.mark.parametrize(("probability", "words", "expected"), [
    (0.9, "How many reps did I do?", 0),  # both say finished: now
    (0.1, "How many reps did I do?", 700),  # the sound is unsure: a little longer
    (None, "How many reps did I do?", 700),  # the model failed: the words decide, a little later
    (0.99, "How should I", 1800),  # mid-sentence words: the cap, whatever the sound
    (0.9, "How fast was that", 700),  # Whisper left it open (a dropped last word?): a little longer
    (0.1, "How do I keep my elbows", 1800),  # left open and the sound unfinished: the cap
    (None, "How do I keep my elbows", 1800),
    (0.9, "", 1800),  # nothing heard (noise, a breath)
    (0.9, None, 1800),  # the transcription failed
])
def test_the_verdict_is_the_silence_that_ends_the_pause(probability: float | None, words: str | None,
                                                        expected: int) -> None:
    assert pause_end_ms(probability, words, OPTIONS) == expected


@pytest.fixture(scope="module")
def smart_turn() -> SmartTurn:
    prepare_embedded(weights_dir())
    return SmartTurn(embedded_model_path(weights_dir()))


def test_smart_turn_hears_a_finished_question_and_a_breath_mid_sentence(smart_turn: SmartTurn) -> None:
    finished = smart_turn.probability(pad(piper_speech("How many reps did I do?"), 0.3, 0.15))
    before, _ = piper_speech_paused("What was my tempo on the last set?", after_words=3, pause_s=0.15)
    unfinished = smart_turn.probability(pad(before, 0.3, 0.0))
    assert finished > 0.8 and unfinished < 0.2, (finished, unfinished)


def test_smart_turn_takes_any_length_and_silence(smart_turn: SmartTurn) -> None:
    """Shorter than its 8 s window (padded), longer (the end kept), or silent: a probability, no error."""
    for audio in (np.zeros(0, np.float32), np.zeros(16_000, np.float32),
                  np.tile(piper_speech("How many reps did I do?"), 8)):
        assert 0.0 <= smart_turn.probability(audio) <= 1.0
