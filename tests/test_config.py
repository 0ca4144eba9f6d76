"""Settings precedence: defaults < config file < environment < command line."""

from __future__ import annotations

from pathlib import Path

import pytest

from realtime.config import load_settings


def test_defaults() -> None:
    s = load_settings()
    assert (s.host, s.port, s.profile, s.token) == ("127.0.0.1", 8080, "embedded", None)
    assert s.media.ice_servers == [] and s.limits.max_sdp_bytes == 65536


def test_file_then_env_then_flags(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    toml = tmp_path / "coach.toml"
    toml.write_text('port = 9001\nlog_level = "DEBUG"\n[limits]\nmax_sessions = 2\n'
                    '[[media.ice_servers]]\nurls = "turn:turn.example.org:3478"\nusername = "u"\n'
                    'credential = "p"\n')
    s = load_settings(toml)
    assert s.port == 9001 and s.limits.max_sessions == 2 and s.media.ice_servers[0].username == "u"
    monkeypatch.setenv("COACH_PORT", "9002")
    monkeypatch.setenv("COACH_LIMITS__MAX_SESSIONS", "5")
    s = load_settings(toml)
    assert s.port == 9002 and s.limits.max_sessions == 5 and s.log_level == "DEBUG"
    assert load_settings(toml, port=9003).port == 9003


def test_yaml_file_and_errors(tmp_path: Path) -> None:
    yaml = tmp_path / "coach.yaml"
    yaml.write_text("profile: full\ntoken: s3cret\n")
    s = load_settings(yaml)
    assert s.profile == "full" and s.token == "s3cret"
    with pytest.raises(FileNotFoundError):
        load_settings(tmp_path / "missing.toml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("profile: turbo\n")
    with pytest.raises(ValueError):
        load_settings(bad)


def test_turn_taking_and_cpu_numbers_are_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COACH_VOICE__SPECULATE_AFTER_SILENCE_S", "0.25")
    monkeypatch.setenv("COACH_CPU__MAX_PAUSE_S", "1.5")
    settings = load_settings(None)
    assert settings.voice.speculate_after_silence_s == 0.25 and settings.voice.max_history == 8
    assert settings.cpu.max_pause_s == 1.5
    with pytest.raises(ValueError):
        load_settings(None, voice={"partial_interval_s": -1})
