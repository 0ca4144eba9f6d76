"""Piper TTS heard back through Whisper, the text normaliser, the sentence chunker and the resampler."""

from __future__ import annotations

import re
import threading
import time

import numpy as np
import pytest

from models import asr
from models.audio import StreamResampler, int16_to_float32, resample
from models.paths import weights_dir
from models.tts import (
    PiperSynthesizer,
    SentenceChunker,
    XttsOptions,
    XttsSynthesizer,
    embedded_options,
    normalize_for_speech,
    prepare_embedded,
)


def words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", text.lower())


@pytest.fixture(scope="module")
def tts() -> PiperSynthesizer:
    prepare_embedded(weights_dir())
    return PiperSynthesizer(embedded_options(weights_dir()))


@pytest.fixture(scope="module")
def whisper() -> asr.FasterWhisperRecognizer:
    asr.prepare_embedded(weights_dir())
    return asr.FasterWhisperRecognizer(asr.embedded_options(weights_dir()))


def hear(tts: PiperSynthesizer, whisper: asr.FasterWhisperRecognizer, text: str) -> str:
    pcm = np.concatenate([chunk.samples for chunk in tts.synthesize(text)])
    return whisper.transcribe(resample(int16_to_float32(pcm), tts.sample_rate, 16_000), final=True).text


def test_piper_speech_is_understood_by_whisper(tts: PiperSynthesizer, whisper: asr.FasterWhisperRecognizer) -> None:
    text = "Keep your chest up and push your knees out."
    chunks = list(tts.synthesize(text))
    assert chunks and all(c.samples.dtype == np.int16 and c.sample_rate == 22_050 for c in chunks)
    assert 1.5 < sum(c.duration for c in chunks) < 5.0
    assert words(hear(tts, whisper, text)) == words(text)


def test_markdown_and_emoji_are_not_read_out(tts: PiperSynthesizer, whisper: asr.FasterWhisperRecognizer) -> None:
    heard = words(hear(tts, whisper, "**Great job!** 💪 You did 7 reps. Details: https://example.com/squat"))
    assert heard[:2] == ["great", "job"] and ("7" in heard or "seven" in heard)
    assert not {"asterisk", "https", "example", "com"} & set(heard)


@pytest.mark.parametrize("text", ["", "   ", "💪🔥🏋️", "https://example.com/a?b=c", "```\nx = 1\n```", "***"])
def test_unspeakable_text_yields_nothing(tts: PiperSynthesizer, text: str) -> None:
    assert list(tts.synthesize(text)) == []


def test_streams_sentence_by_sentence(tts: PiperSynthesizer) -> None:
    started = time.perf_counter()
    stream = tts.synthesize("Nice depth. Now stand up tall. Breathe out at the top. Three more reps.")
    first = next(stream)
    first_at = time.perf_counter() - started
    rest = list(stream)
    total = time.perf_counter() - started
    assert len(rest) == 3 and first.duration < 2.0
    assert first_at < total / 2  # the first chunk came before the others were made
    print(f"\nPiper first chunk {first_at * 1000:.0f} ms, whole reply {total * 1000:.0f} ms")


def test_two_threads_at_once(tts: PiperSynthesizer) -> None:
    durations: dict[int, float] = {}

    def speak(i: int) -> None:
        durations[i] = sum(c.duration for c in tts.synthesize(f"Set number {i + 1} is done, well done."))

    threads = [threading.Thread(target=speak, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert len(durations) == 3 and all(d > 1.0 for d in durations.values())


def test_xtts_is_clearly_unavailable_without_coqui() -> None:
    try:
        import TTS.tts.models.xtts  # noqa: F401
    except (ImportError, OSError):  # OSError: a torchaudio built for another torch or CUDA
        with pytest.raises(RuntimeError, match="coqui-tts"):
            XttsSynthesizer(XttsOptions(accept_licence=True))
    else:
        pytest.skip("coqui-tts is installed here (tests/test_xtts.py loads it)")


@pytest.mark.parametrize(
    ("raw", "spoken"),
    [
        ("**Keep** your `chest` up! 🏋️ See [the guide](http://a.b).", "Keep your chest up! See the guide."),
        ("Use 60% & go to 90°.", "Use 60 percent and go to 90 degrees."),
        ("# Tips\n- Brace\n- Breathe", "Tips. Brace. Breathe"),
        ("Email me at coach@example.com 😀", "Email me at"),
        ("Here:\n```python\nprint(1)\n```\nDone.", "Here: Done."),
        ("👍", ""),
        ("", ""),
        ("Сделай ещё три повтора.", "Сделай ещё три повтора."),  # replies in other scripts are speech too
        ("再做三次。", "再做三次。"),
    ],
)
def test_normalize_for_speech(raw: str, spoken: str) -> None:
    assert normalize_for_speech(raw) == spoken


def stream_through(chunker: SentenceChunker, text: str, step: int = 3) -> list[str]:
    pieces = []
    for i in range(0, len(text), step):
        pieces += chunker.push(text[i : i + step])
    return pieces + chunker.flush()


def test_chunker_emits_the_first_clause_early() -> None:
    chunker = SentenceChunker()
    text = "Push your knees out, over your toes. Keep going, you are close."
    assert stream_through(chunker, text) == [
        "Push your knees out,",
        "over your toes.",
        "Keep going, you are close.",  # only the first piece is cut at a comma
    ]
    assert stream_through(SentenceChunker(), "During the squat, breathe in at the top.") == [
        "During the squat,", "breathe in at the top."]


def test_chunker_speaks_a_short_opening_at_once_and_keeps_cutting_until_enough_is_said() -> None:
    # "Yes," is heard while the model is still writing the sentence it opens (~0.5 s here), and
    # with one word out, the next clause is still cut early so no long silence follows it.
    assert SentenceChunker().push("Yes") == []
    assert SentenceChunker().push("Yes, you") == ["Yes,"]
    assert stream_through(SentenceChunker(), "Great set, keep going, you are close. Rest now, then go again.") == [
        "Great set,", "keep going,", "you are close.", "Rest now, then go again."]
    assert stream_through(SentenceChunker(), "No, keep your back straight to stay safe.") == [
        "No,", "keep your back straight to stay safe."]


def test_chunker_cuts_at_the_mark_the_model_has_just_written() -> None:
    """Tokens as Qwen writes them: the mark comes alone, the next word (or the end) one token later."""
    def pieces_by_token(tokens: list[str]) -> list[list[str]]:
        chunker = SentenceChunker()
        return [chunker.push(token) for token in tokens]

    assert pieces_by_token(["I", " did", " not", " see", " any", " reps", " yet", "."])[-1] == [
        "I did not see any reps yet."]
    assert pieces_by_token(["Yes", ","]) == [[], ["Yes,"]]
    # After a digit the mark may be part of a number: wait for what follows.
    assert pieces_by_token(["Add", " 2", ".", "5", " kg", ","]) == [[], [], [], [], [], ["Add 2.5 kg,"]]
    assert pieces_by_token(["Do", " 1", ",", "500", " reps", "."]) == [[], [], [], [], [], ["Do 1,500 reps."]]
    chunker = SentenceChunker()
    assert [chunker.push(token) for token in ["Try", " e", ".g", "."]] == [[], [], [], []]  # an abbreviation


def test_chunker_cuts_text_that_comes_whole_as_it_would_streamed() -> None:
    """An answer from the facts arrives in one piece: its first clause still goes to Piper alone,
    which starts it in about half the time of the whole sentence."""
    assert SentenceChunker().push("Your last rep took 1.5 seconds: 0.5 down and 1.1 up.") == [
        "Your last rep took 1.5 seconds:", "0.5 down and 1.1 up."]
    assert SentenceChunker().push("Your last rep moved your arm angle from 26 to 124 degrees.") == [
        "Your last rep moved your arm angle", "from 26 to 124 degrees."]
    whole = "Push your knees out, over your toes. Keep going, you are close."
    assert SentenceChunker().push(whole) == stream_through(SentenceChunker(), whole)
    assert SentenceChunker().push("I did not see any reps yet.") == ["I did not see any reps yet."]


def test_chunker_cuts_the_first_piece_before_a_phrase_when_no_comma_comes() -> None:
    text = "Your knees caved in on rep five because your hips tired. Keep going, you are close."
    assert stream_through(SentenceChunker(), text) == [
        "Your knees caved in",  # the next word opens a phrase: speak this much now
        "on rep five because your hips tired.",
        "Keep going, you are close.",
    ]
    assert stream_through(SentenceChunker(), "Your knees may be caving in due to weak hips.") == [
        "Your knees may be caving in", "due to weak hips."]
    # Words that join rather than open ("one to two", "weak or stiff") are not cut points.
    assert stream_through(SentenceChunker(), "Rest about one to two minutes before the next set.") == [
        "Rest about one to two minutes",
        "before the next set.",
    ]
    assert stream_through(SentenceChunker(), "It could be weak or stiff hips.") == ["It could be weak or stiff hips."]
    # Nor after a word that leans on the next one.
    assert stream_through(SentenceChunker(), "Breathe in at the top or on the way down, breathe out as you rise.") == [
        "Breathe in at the top or on the way down,",
        "breathe out as you rise.",
    ]


def test_chunker_keeps_decimals_abbreviations_and_code_together() -> None:
    text = "Add 2.5 kg, e.g. next week. Try this:\n```\nx = 1\ny = 2\n```\nDone!"
    pieces = stream_through(SentenceChunker(), text)
    assert pieces == ["Add 2.5 kg,", "e.g. next week.", "Try this:", "```\nx = 1\ny = 2\n```", "Done!"]


def test_chunker_cuts_run_on_text_and_loses_nothing() -> None:
    text = " ".join(f"word{i}" for i in range(70))
    pieces = stream_through(SentenceChunker(max_words=30), text)
    assert all(len(p.split()) <= 31 for p in pieces) and len(pieces) >= 3
    assert " ".join(pieces).split() == text.split()


def test_stream_resampler_to_48k_keeps_pitch_and_length() -> None:
    rate = 22_050
    t = np.arange(rate) / rate
    tone = (0.5 * np.sin(2 * np.pi * 440 * t) * 32767).astype(np.int16)
    resampler = StreamResampler(rate, 48_000)
    out = np.concatenate([resampler.push(tone[i : i + 2205]) for i in range(0, rate, 2205)] + [resampler.flush()])
    assert abs(out.size - 48_000) <= 64
    spectrum = np.abs(np.fft.rfft(out[4800:-4800].astype(np.float32)))
    peak_hz = np.argmax(spectrum) * 48_000 / (out.size - 9600)
    assert peak_hz == pytest.approx(440, abs=3)


class _Heard:
    """An audio sink that notes what reached it."""

    sample_rate = 48_000

    def __init__(self) -> None:
        self.writes: list[bool] = []

    def write(self, pcm: np.ndarray, first: bool) -> None:
        self.writes.append(first)


async def test_the_llm_waits_while_the_first_words_are_synthesised_and_no_longer(tts: PiperSynthesizer) -> None:
    """The reply's LLM pauses between tokens while the first piece is synthesised, so Piper has
    both cores; it must never wait on a piece with nothing to say, or after a barge-in."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    from realtime.voice.speaker import Speaker

    pool = ThreadPoolExecutor(1)
    sink = _Heard()
    speaker = Speaker(tts, pool, sink, threading.Event())

    async def llm_waits() -> tuple[list[bool], float]:
        started = time.monotonic()
        await asyncio.to_thread(speaker.wait_while_first_synthesis, 10.0)
        return sink.writes[:], time.monotonic() - started

    assert (await llm_waits())[0] == []  # nothing said yet: no wait
    speaker.say("\U0001f642")  # nothing sayable: no audio, and no wait once it is done
    await asyncio.sleep(0.2)
    assert (await llm_waits())[0] == []
    speaker.say("You did five reps.")  # still the first words heard
    await asyncio.sleep(0)
    heard, _ = await llm_waits()
    assert heard[:1] == [True]  # it went on once the first audio was out
    await speaker.finish()

    cut_sink = _Heard()
    cut = Speaker(tts, pool, cut_sink, threading.Event())
    cut.say("Keep your chest up and brace before every single rep of this set, all the way down.")
    await asyncio.sleep(0.03)
    assert cut_sink.writes == []  # its first words are being synthesised
    cut.cancel()  # barge-in
    started = time.monotonic()
    cut.wait_while_first_synthesis(5.0)  # on the loop, so only `cancel` itself can end the wait
    assert time.monotonic() - started < 1.0
