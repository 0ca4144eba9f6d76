"""The echo canceller on a scripted clock: WebRTC's AEC3 with the round trip measured first.

Piper's voice is the coach; the microphone hears it back after a delay, at half its level."""

from __future__ import annotations

import av
import numpy as np
import pytest

from models.audio import resample
from realtime.media.echo import EchoCanceller
from tests.speech import piper_speech

pytestmark = pytest.mark.offline  # scripts/test.sh runs it beside another offline test

REPLY = "Keep your chest up and push your knees out over your toes. Breathe in on the way down and out on the way up."


def run(delay_s: float | None, seconds: float = 8.0, person: np.ndarray | None = None, person_at_s: float = 0.0,
        only_echo: list[bool] | None = None, echo_level: float = 0.5,
        ) -> tuple[EchoCanceller, np.ndarray, np.ndarray, list[bool]]:
    """Feed 20 ms of reply and of microphone per step; returns the canceller, the echo it heard,
    what it let through, and whether it was unsure at each step. `person` (16 kHz) is mixed into
    the microphone from person_at_s; `only_echo` collects the canceller's verdict at each step."""
    clock = [0.0]
    canceller = EchoCanceller(clock=lambda: clock[0])
    reply = resample(piper_speech(REPLY), 16_000, 48_000)
    steps = int(seconds / 0.02)
    reply = np.concatenate([reply, np.zeros(max(0, steps * 960 - reply.size), np.float32)])[:steps * 960]
    echo = np.zeros(steps * 320, np.float32)
    if delay_s is not None:
        lag = int(delay_s * 16_000)
        echo[lag:] = echo_level * resample(reply, 48_000, 16_000)[:echo.size - lag]
    mic = echo.copy()
    if person is not None:
        at = int(person_at_s * 16_000)
        mic[at:at + person.size] += person[:max(0, mic.size - at)]
    out, unsure = [], []
    for k in range(steps):
        clock[0] = k * 0.02
        frame = av.AudioFrame.from_ndarray((reply[k * 960:(k + 1) * 960] * 32767).astype(np.int16).reshape(1, -1),
                                           format="s16", layout="mono")
        frame.sample_rate = 48_000
        canceller.played(frame)
        out.append(canceller.cleaned(mic[k * 320:(k + 1) * 320]))
        unsure.append(canceller.unsure())
        if only_echo is not None:
            only_echo.append(canceller.only_echo())
    return canceller, echo, np.concatenate(out), unsure


def rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(x ** 2)))


@pytest.mark.parametrize("delay_s", [0.15, 0.6, 1.0])
def test_the_round_trip_is_measured_and_the_echo_cancelled(delay_s: float) -> None:
    canceller, echo, out, unsure = run(delay_s)
    assert canceller.delay.delay_s == pytest.approx(delay_s, abs=0.04)
    late = slice(3 * 16_000, 7 * 16_000)  # once measured and converged
    assert rms(out[late]) < 0.05 * rms(echo[late]), (rms(out[late]), rms(echo[late]))
    assert any(unsure[:100]) and not any(unsure[200:300])  # unsure only at first


def test_a_voice_louder_than_the_coach_is_not_taken_for_its_echo() -> None:
    """Loudness envelopes that match at some lag, the microphone 6 dB louder than the coach: a person
    whose speech's rhythm met the coach's, not an echo (which comes back quieter)."""
    canceller, _, _, _ = run(0.3, echo_level=2.0)
    assert canceller.delay.delay_s is None and not canceller.echo_found


def test_a_client_that_cancels_its_own_echo_is_not_unsure_for_long() -> None:
    canceller, _, _, unsure = run(None)
    assert canceller.delay.delay_s is None
    assert any(unsure) and not any(unsure[150:])  # 2 s of the coach's speech without a match


def test_without_an_echo_the_persons_voice_passes_untouched() -> None:
    """A client that cancels its own echo: the person talking over the coach is heard at full level
    (AEC3 on a clean microphone damped it by half or more, and barge-ins were missed)."""
    clock = [0.0]
    canceller = EchoCanceller(clock=lambda: clock[0])
    reply = resample(piper_speech(REPLY), 16_000, 48_000)
    reply = np.concatenate([reply, np.zeros(6 * 48_000, np.float32)])
    person = piper_speech("Wait, stop, I have a question.")
    near = np.zeros(6 * 16_000, np.float32)
    near[40_000:40_000 + person.size] = person
    out = []
    for k in range(near.size // 320):
        clock[0] = k * 0.02
        frame = av.AudioFrame.from_ndarray((reply[k * 960:(k + 1) * 960] * 32767).astype(np.int16).reshape(1, -1),
                                           format="s16", layout="mono")
        frame.sample_rate = 48_000
        canceller.played(frame)
        out.append(canceller.cleaned(near[k * 320:(k + 1) * 320]))
    said = slice(40_000, 40_000 + person.size)
    assert rms(np.concatenate(out)[said]) == pytest.approx(rms(near[said]), rel=0.02)



def test_the_echo_left_after_cancelling_is_told_from_a_person_talking_over_it() -> None:
    """Once the round trip is measured, microphone frames no louder than the coach's echo are the
    coach's (AEC3 misaligned on a loaded machine let them through as speech); a person talking
    over the coach at an ordinary level is not taken for it."""
    verdicts: list[bool] = []
    canceller, echo, _, _ = run(0.3, only_echo=verdicts)
    assert canceller.delay.echo_gain_db == pytest.approx(-6.0, abs=1.5)  # the echo comes back at half level
    steps = np.arange(len(verdicts))
    loud = (steps >= 150) & np.array([rms(echo[k * 320:(k + 1) * 320]) > 0.02 for k in steps])
    assert loud.sum() > 50 and np.mean(np.array(verdicts)[loud]) > 0.9

    voice = piper_speech("Wait, stop, I have a question about my knees.")
    verdicts = []
    run(0.3, person=voice, person_at_s=3.5, only_echo=verdicts)
    speaking = np.array([3.5 <= k * 0.02 < 3.5 + voice.size / 16_000
                         and rms(voice[int((k * 0.02 - 3.5) * 16_000):][:320]) > 0.05 for k in steps])
    assert speaking.sum() > 20 and np.mean(np.array(verdicts)[speaking]) < 0.2
