"""The phrase cache in front of the voice: a cue said once is said again without synthesis."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import numpy as np
import pytest

from models.paths import weights_dir
from models.tts import AudioChunk, PhraseCache, PiperSynthesizer, embedded_options, prepare_embedded


class CountingVoice:
    """Half a second of a tone per sentence, counting the calls that reach it."""

    sample_rate = 16_000
    languages = frozenset({"en", "fr"})

    def __init__(self) -> None:
        self.calls: list[str] = []

    def synthesize(self, text: str, language: str | None = None) -> Iterator[AudioChunk]:
        self.calls.append(text)
        for i, _ in enumerate(s for s in text.split(".") if s.strip()):
            yield AudioChunk(np.full(8_000, i + 1, dtype=np.int16), self.sample_rate, text)


def say(voice: PhraseCache, text: str, language: str | None = None) -> np.ndarray:
    chunks = [c.samples for c in voice.synthesize(text, language)]
    return np.concatenate(chunks) if chunks else np.zeros(0, np.int16)


def test_a_short_phrase_said_again_comes_from_memory_the_same() -> None:
    inner = CountingVoice()
    voice = PhraseCache(inner)
    first = say(voice, "Five. Keep going.")
    again = say(voice, "Five.  Keep going.")  # the same words, spaced differently
    assert inner.calls == ["Five. Keep going."]
    assert np.array_equal(first, again) and first.size == 16_000
    assert voice.hits == 1 and voice.seconds_held == pytest.approx(1.0)
    say(voice, "Five. Keep going.", "fr")  # the same words in another language are synthesised anew
    assert inner.calls == ["Five. Keep going."] * 2 and voice.hits == 1


def test_long_sentences_are_not_kept() -> None:
    inner = CountingVoice()
    voice = PhraseCache(inner, max_chars=20)
    text = "Drive through your whole foot and keep the bar over the middle of it."
    say(voice, text)
    say(voice, text)
    assert len(inner.calls) == 2 and voice.seconds_held == 0


def test_a_phrase_cut_off_by_barge_in_is_not_kept() -> None:
    inner = CountingVoice()
    voice = PhraseCache(inner)
    speech = voice.synthesize("Chest up. Knees out.")
    next(speech)  # the person talks over the first sentence: the speaker stops reading
    speech.close()
    assert voice.seconds_held == 0
    assert say(voice, "Chest up. Knees out.").size == 16_000
    assert len(inner.calls) == 2


def test_the_least_recently_said_go_first() -> None:
    inner = CountingVoice()
    voice = PhraseCache(inner, max_seconds=1.0)
    for text in ("One.", "Two.", "One.", "Three."):  # "Two." is the oldest when "Three." needs room
        say(voice, text)
    inner.calls.clear()
    say(voice, "One.")
    say(voice, "Three.")
    say(voice, "Two.")
    assert inner.calls == ["Two."]
    assert voice.seconds_held <= 1.0


def test_sessions_saying_phrases_at_once() -> None:
    inner = CountingVoice()
    voice = PhraseCache(inner, max_seconds=2.0)
    texts = [f"Cue {i}." for i in range(8)]
    out: list[int] = []

    def run() -> None:
        for _ in range(50):
            for text in texts:
                out.append(say(voice, text).size)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert set(out) == {8_000} and len(out) == 4 * 50 * 8
    assert voice.seconds_held <= 2.0


def test_the_real_voice_says_a_cue_again_from_memory() -> None:
    prepare_embedded(weights_dir())
    piper = PiperSynthesizer(embedded_options(weights_dir()))
    calls = []

    class Watched:
        sample_rate = piper.sample_rate
        languages = piper.languages

        def synthesize(self, text: str, language: str | None = None) -> Iterator[AudioChunk]:
            calls.append(text)
            return piper.synthesize(text, language)

    voice = PhraseCache(Watched())
    first = say(voice, "Push your knees out over your toes.")
    again = say(voice, "Push your knees out over your toes.")
    assert len(calls) == 1 and first.size > piper.sample_rate  # over a second of speech
    assert np.array_equal(first, again)
