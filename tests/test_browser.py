"""Real Chromium (Debian, through Playwright) in a loopback-only namespace against the server."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.browser.namespace import run_isolated
from tests.media_gen import espeak_wav, pattern_y4m

REPO = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.browser


def run_browser_session(tmp_path: Path, video: Path, audio: Path, seconds: float = 4.0,
                        extra: list[str] = ()) -> dict:
    cmd = [sys.executable, "-m", "tests.browser.driver", "--video", str(video), "--audio", str(audio),
           "--data-dir", str(tmp_path / "data"), "--seconds", str(seconds),
           "--screenshot", str(tmp_path / "page.png"), *extra]
    proc = run_isolated(cmd, timeout=240, cwd=str(REPO))
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_page_connects_streams_and_receives_messages(tmp_path: Path) -> None:
    video = pattern_y4m(tmp_path / "cam.y4m", seconds=2)
    audio = espeak_wav("How many reps did I do?", tmp_path / "mic.wav")
    result = run_browser_session(tmp_path, video, audio, seconds=4.0)
    assert result["connect_s"] < 10
    assert result["video_fps"] >= 25, result
    assert list(result["video_size"]) == [640, 480]
    assert result["audio_seconds_per_s"] > 0.8, result
    page = result["page"]
    assert page["connection"] == "connected"
    assert page["types"].get("hello") == 1, page
    assert result["reply_audio_playing"], "the reply track must be attached to a playing <audio>"
    assert result["sessions_after_stop"] == 0


@pytest.mark.slow
def test_spoken_question_is_answered_aloud_in_the_page(tmp_path: Path) -> None:
    """Chromium's fake microphone asks a question; the page shows the transcript and plays the answer."""
    from tests.media import sports2d_demo_video
    from tests.media_gen import video_to_y4m, write_wav
    from tests.speech import piper_speech

    video = video_to_y4m(sports2d_demo_video(), tmp_path / "cam.y4m", seconds=3)
    speech = piper_speech("How should I breathe during a squat?", rate=48_000)
    silence = np.zeros(48_000 * 3, np.float32)
    samples = (np.concatenate([silence, speech, silence]) * 32767).astype(np.int16)
    audio = write_wav(tmp_path / "question.wav", samples, 48_000)
    result = run_browser_session(tmp_path, video, Path(f"{audio}%noloop"), seconds=1.0,
                                 extra=["--models", "--voice"])
    voice = result["voice"]
    assert any("breathe" in t.lower() for t in voice["transcripts"]), voice
    assert "breathe" in voice["transcriptShown"].lower()
    answer = next(v for k, v in voice["replies"].items() if k.startswith("answer-"))
    assert len(answer) > 10
    assert voice["peak"] > 0.05, "the reply must be audible in the page"
    # The skeleton overlay kept coming meanwhile: 16-17 messages on a 2-core CPU without VNNI, whose
    # fp32 pose graph shares the cores with Whisper and the voice, more where the int8 graph runs.
    assert result["page"]["types"].get("pose", 0) > 10
    # Who has the floor reached the page: listening, then thinking, then speaking at least.
    assert result["page"]["types"].get("voice_state", 0) >= 3, result["page"]["types"]
    # The page measured what the person lived through, end of speech to the first audible answer
    # sample, and told the server (its /metrics histogram).
    heard = result["page"]["heard"]
    answer_turn = int(next(k for k in voice["replies"] if k.startswith("answer-")).split("-")[1])
    assert [h["turn"] for h in heard] == [answer_turn] and 100 < heard[0]["ms"] < 20_000, heard
    assert result["client_v2v_reports"] == 1
