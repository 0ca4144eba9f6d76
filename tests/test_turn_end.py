"""End of turn: the verdict on a pause from Smart Turn, the words heard and the sentence model, and
the real models."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import numpy as np
import pytest

from models.paths import weights_dir
from models.llm import LlamaCppChat
from models.llm import embedded_options as llm_options
from models.llm.prepare import embedded_model_path as llm_model_path
from models.turn import SentenceEnd, SmartTurn, TurnOptions, embedded_model_path, prepare_embedded
from models.turn.sentence_end import spoken_words
from realtime.voice.turn_end import pause_end_ms, words_closed, words_unfinished
from tests.speech import pad, piper_speech, piper_speech_paused

pytestmark = pytest.mark.offline  # scripts/test.sh runs it beside another offline test

OPTIONS = TurnOptions(threshold=0.5, words_after_ms=700, silence_cap_ms=1800, sentence_threshold=0.1)


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


@pytest.mark.parametrize(("probability", "words", "sentence_end", "expected"), [
    (0.9, "How should I be.", 0.001, 1800),  # Whisper closed a fragment, the sound misjudged: the model reads on
    (0.1, "How many reps did I do?", 0.5, 0),  # closed and a sentence: now, though the sound is unsure
    (0.9, "How fast was that", 0.3, 0),  # a sentence Whisper left open, the sound finished: now
    (0.1, "How fast was that", 0.3, 700),  # only the sentence model says finished: a little longer
    (None, "How many reps did I do?", 0.5, 0),  # Smart Turn failed: the words and the model agree
    (0.9, "How should I", 0.9, 1800),  # a word a sentence cannot end on: the cap, whatever the model
    (0.9, "How many reps did I do?", None, 0),  # no sentence model: as before
])
def test_the_sentence_model_decides_whether_the_words_may_end_here(
        probability: float | None, words: str, sentence_end: float | None, expected: int) -> None:
    assert pause_end_ms(probability, words, OPTIONS, sentence_end) == expected


def test_the_sentence_model_reads_words_as_spoken() -> None:
    assert spoken_words("How deep was that, coach?") == "how deep was that coach"
    assert spoken_words("I'm done...") == "i'm done"
    assert spoken_words(" ".join(["go"] * 100)) == " ".join(["go"] * 40)  # a monologue: its last words


@pytest.fixture(scope="module")
def sentence_end() -> SentenceEnd:
    return SentenceEnd.from_gguf(llm_model_path(weights_dir()))


@pytest.mark.parametrize("words", ["How many reps did I do?", "How long should I rest between sets?",
                                   "What was my tempo on the last set?", "How do I keep my elbows in during push ups?"])
def test_the_sentence_model_reads_a_whole_question_as_ended(sentence_end: SentenceEnd, words: str) -> None:
    assert sentence_end.probability(words) >= 0.2


@pytest.mark.parametrize("words", ["Can you tell me how deep my", "What was my tempo on the",
                                   "How do I keep my elbows", "Should I go heavier next week or"])
def test_the_sentence_model_reads_a_fragment_as_unfinished(sentence_end: SentenceEnd, words: str) -> None:
    assert sentence_end.probability(words) < 0.02


def test_the_sentence_model_reads_on_from_what_it_read_before(sentence_end: SentenceEnd) -> None:
    """A partial read while they talk leaves the pause its last words: the same answer as reading
    the whole question afresh (up to the float noise of a different batch split)."""
    sentence_end.probability("What is the weather like")
    fresh = sentence_end.probability("How many reps did I do?")
    sentence_end.probability("How many reps")
    assert sentence_end.probability("How many reps did I do?") == pytest.approx(fresh, abs=0.05)
    assert sentence_end.probability("") == 0.0


def test_the_sentence_model_reads_with_the_llms_own_weights_beside_its_replies(sentence_end: SentenceEnd) -> None:
    """As the server runs it: a context of its own on the LLM's loaded weights, the same readings as
    on weights of its own, and the LLM still answers from its own context."""
    chat = LlamaCppChat(llm_options(weights_dir()))
    shared = SentenceEnd(chat.llama)
    for words in ("How many reps did I do?", "Can you tell me how deep my"):
        assert shared.probability(words) == pytest.approx(sentence_end.probability(words), abs=0.05)
    stop = threading.Event()
    reply = "".join(chat.stream([{"role": "user", "content": "Say OK."}], stop_event=stop))
    assert reply.strip()
    assert shared.probability("Should I go heavier next week or") < 0.02


def test_loading_the_sentence_model_beside_the_llm_keeps_the_process_output() -> None:
    """The server loads both at once (two loader lanes). llama-cpp-python points stdout and stderr at
    /dev/null while a model loads: two loads at once, unserialised, left them there for good."""
    script = textwrap.dedent("""
        import sys, threading
        from models.llm import LlamaCppChat, embedded_options
        from models.llm.prepare import embedded_model_path
        from models.paths import weights_dir
        from models.turn import SentenceEnd
        w = weights_dir()
        loads = [threading.Thread(target=LlamaCppChat, args=(embedded_options(w),)),
                 threading.Thread(target=SentenceEnd.from_gguf, args=(embedded_model_path(w),))]
        for t in loads:
            t.start()
        for t in loads:
            t.join()
        print("stdout still here")
        print("stderr still here", file=sys.stderr)
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                            cwd=Path(__file__).resolve().parent.parent)
    assert "stdout still here" in result.stdout and "stderr still here" in result.stderr, result


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
