"""Silero VAD v6 + the streaming segmenter on real synthetic speech, silence and noise."""

from __future__ import annotations

import numpy as np
import pytest

from models.paths import weights_dir
from models.vad import SileroVad, Segmenter, SpeechStarted, UtteranceEnded, VadOptions, embedded_model_path, prepare_embedded
from tests.speech import pad, piper_speech, white_noise

RATE = 16_000
SENTENCE = "How many reps did I do?"


@pytest.fixture(scope="module")
def vad() -> SileroVad:
    prepare_embedded(weights_dir())
    return SileroVad(embedded_model_path(weights_dir()))


def feed(segmenter: Segmenter, audio: np.ndarray, chunk: int = 320) -> list:
    """Push in 20 ms chunks, as the WebRTC track delivers them."""
    events = []
    for i in range(0, audio.size, chunk):
        events += segmenter.push(audio[i : i + chunk])
    return events


def test_finds_the_speech_segment(vad: SileroVad) -> None:
    speech = piper_speech(SENTENCE)
    audio = pad(speech, 1.0, 1.5)
    events = feed(Segmenter(vad), audio)
    assert [type(e) for e in events] == [SpeechStarted, UtteranceEnded]
    started, ended = events
    speech_end = 1.0 + speech.size / RATE
    assert 0.9 <= started.t_start <= 1.3
    assert started.t_detected - started.t_start >= 0.25  # min_speech_ms before barge-in fires
    assert abs(ended.t_end - speech_end) < 0.35
    # pre-roll (300 ms) before the first voiced window, post-roll (200 ms) after the last one
    assert ended.duration == pytest.approx(ended.t_end - ended.t_start + 0.3 + 0.2, abs=0.05)
    assert not ended.truncated


@pytest.mark.parametrize(
    "audio",
    [np.zeros(3 * RATE, np.float32), white_noise(3.0, level=0.05), white_noise(3.0, level=0.3, seed=1)],
    ids=["silence", "quiet-noise", "loud-noise"],
)
def test_nothing_in_silence_or_noise(vad: SileroVad, audio: np.ndarray) -> None:
    segmenter = Segmenter(vad)
    assert feed(segmenter, audio) + segmenter.flush() == []


def test_speech_shorter_than_min_speech_is_ignored(vad: SileroVad) -> None:
    segmenter = Segmenter(vad, VadOptions(min_speech_ms=5000))
    audio = pad(piper_speech(SENTENCE), 0.5, 1.0)
    maybe = []
    for i in range(0, audio.size, 512):
        assert segmenter.push(audio[i:i + 512]) == []
        maybe.append(segmenter.maybe_speech)
    assert segmenter.flush() == []
    # Voiced but too short to be a turn: "maybe speech" while heard, dropped after the silence.
    assert any(maybe) and not maybe[0] and not maybe[-1] and not segmenter.in_speech


def test_current_audio_grows_while_speaking(vad: SileroVad) -> None:
    segmenter = Segmenter(vad)
    audio = pad(piper_speech("Keep your chest up and push your knees out."), 0.5, 1.0)
    lengths = []
    for i in range(0, audio.size, 320):
        segmenter.push(audio[i : i + 320])
        current = segmenter.current_audio()
        assert (current is not None) == segmenter.in_speech
        if current is not None:
            lengths.append(current.size)
    assert len(lengths) > 20 and lengths == sorted(lengths) and lengths[-1] > RATE
    assert segmenter.current_audio() is None  # the turn ended in the trailing silence


def test_silence_counts_from_the_last_voiced_window(vad: SileroVad) -> None:
    """What the voice loop starts its speculative answer on: silence since the speech ended, in
    stream time, growing steadily through the trailing silence until the turn ends."""
    segmenter = Segmenter(vad)
    speech = piper_speech(SENTENCE)
    audio = pad(speech, 0.5, 1.0)
    seen = []
    for i in range(0, audio.size, 320):
        segmenter.push(audio[i : i + 320])
        if segmenter.in_speech:
            seen.append(((i + 320) / RATE, segmenter.silence_s))
    assert segmenter.silence_s == 0.0  # the turn has ended
    speaking = [s for t, s in seen if t < 0.5 + speech.size / RATE - 0.3]
    trailing = [s for t, s in seen if t > 0.5 + speech.size / RATE + 0.1]
    assert max(speaking) < 0.3  # pauses between words stay short
    assert trailing == sorted(trailing) and 0.4 <= trailing[-1] <= 0.55  # then up to min_silence_ms


def test_two_turns_and_chunking_does_not_matter(vad: SileroVad) -> None:
    one = piper_speech(SENTENCE)
    audio = np.concatenate([pad(one, 0.5, 1.2), pad(one, 0.0, 1.2)])
    by_chunks = [e for e in feed(Segmenter(vad), audio) if isinstance(e, UtteranceEnded)]
    at_once = [e for e in Segmenter(vad).push(audio) if isinstance(e, UtteranceEnded)]
    assert len(by_chunks) == 2
    assert [(e.t_start, e.t_end) for e in by_chunks] == [(e.t_start, e.t_end) for e in at_once]


def test_long_monologue_is_cut(vad: SileroVad) -> None:
    speech = piper_speech("Today I did five sets of squats, then lunges, then push-ups, and my legs are tired now.")
    segmenter = Segmenter(vad, VadOptions(max_utterance_s=1.5))
    events = feed(segmenter, pad(speech, 0.3, 1.0))
    ended = [e for e in events if isinstance(e, UtteranceEnded)]
    assert ended[0].truncated and ended[0].duration <= 1.5 + 0.05
    assert not ended[-1].truncated
    cut = events.index(ended[0])
    assert isinstance(events[cut + 1], SpeechStarted)  # the speech goes on as a new utterance


def test_flush_closes_an_utterance_in_progress(vad: SileroVad) -> None:
    segmenter = Segmenter(vad)
    feed(segmenter, pad(piper_speech(SENTENCE), 0.5, 0.0))
    assert segmenter.in_speech
    (event,) = segmenter.flush()
    assert isinstance(event, UtteranceEnded) and event.duration > 1.0
    assert not segmenter.in_speech


def test_a_judged_pause_ends_the_turn_at_its_own_silence(vad: SileroVad) -> None:
    """With a caller judging pauses, the default silence is only a cap: `end_pause_after` shortens
    the pause in progress, `end_turn` ends it at once, and speech resuming forgets a verdict."""
    speech = piper_speech(SENTENCE)
    segmenter = Segmenter(vad, turn_end_ms=1800)
    events = feed(segmenter, pad(speech, 0.5, 0.3))
    assert [type(e) for e in events] == [SpeechStarted] and segmenter.in_speech  # 0.3 s < the cap
    segmenter.end_pause_after(600)
    ended = feed(segmenter, np.zeros(int(0.4 * RATE), np.float32))
    assert [type(e) for e in ended] == [UtteranceEnded]

    segmenter = Segmenter(vad, turn_end_ms=1800)
    feed(segmenter, pad(speech, 0.5, 0.3))
    segmenter.end_pause_after(1000)
    feed(segmenter, speech)  # they went on: the verdict was for the pause before
    assert segmenter.in_speech and not feed(segmenter, np.zeros(int(1.2 * RATE), np.float32))
    event = segmenter.end_turn()
    assert isinstance(event, UtteranceEnded) and event.duration > 2 * speech.size / RATE
    assert segmenter.end_turn() is None and not segmenter.in_speech
