"""Real Chromium (Debian, through Playwright) in a loopback-only namespace against the server."""

from __future__ import annotations

import json
import sys
from pathlib import Path

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
    proc = run_isolated(cmd, timeout=120, cwd=str(REPO))
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
