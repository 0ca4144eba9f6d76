"""The full profile's downloads, as a GPU user meets them: the Hub is reachable in `full` and never in
`embedded`, models are chosen by name, `python -m models.prepare --profile full --offline` says
clearly what the models directory lacks, and a family whose weights are missing falls back to the
embedded model. These machines cannot reach the Hub, so what is checked is the decision and the
error (in fresh processes where huggingface_hub's settings matter: it reads them once, at import)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from models.llm import DEFAULT_FULL_MODEL, FULL_MODELS, options_for
from models.paths import REPO_ROOT
from realtime.config import Settings

_HUB_ENV = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_HOME")


def _python(code: str, tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in _HUB_ENV}
    clean.update(COACH_MODELS_DIR=str(tmp_path / "weights"), **env)
    return subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, env=clean, capture_output=True,
                          text=True, timeout=120)


def test_the_hub_is_offline_in_embedded_and_reachable_in_full() -> None:
    assert Settings(profile="embedded").offline
    assert not Settings(profile="full").offline
    assert Settings(profile="full", hub_offline=True).offline


@pytest.mark.parametrize(("offline", "expected"), [(True, "True"), (False, "False")])
def test_the_first_pin_decides_what_huggingface_hub_reads(tmp_path: Path, offline: bool, expected: str) -> None:
    # A family's loader pins the caches again (offline by default): the process's first call stands.
    code = (f"from models.paths import pin_caches; pin_caches(offline={offline}); pin_caches(); "
            "import huggingface_hub.constants as c; print(c.HF_HUB_OFFLINE, c.HF_HOME)")
    run = _python(code, tmp_path)
    assert run.returncode == 0, run.stderr
    offline_read, home = run.stdout.split()
    assert offline_read == expected
    assert home == str(tmp_path / "weights" / "hf")  # downloads land in the models directory either way


def test_llm_is_chosen_by_name_in_settings(tmp_path: Path) -> None:
    llama = options_for("embedded", tmp_path, {"model": "llama-3-8b-instruct", "max_tokens": 90})
    assert (llama.hub_repo, llama.hub_filename) == FULL_MODELS["llama-3-8b-instruct"][:2]
    assert llama.system_role and llama.max_tokens == 90 and llama.n_gpu_layers == -1
    default = options_for("full", tmp_path, {})
    assert (default.hub_repo, default.hub_filename) == FULL_MODELS[DEFAULT_FULL_MODEL][:2]
    assert not default.system_role  # Mistral's template has no system role
    assert options_for("embedded", tmp_path, {}).model_path is not None  # the embedded GGUF, no Hub
    with pytest.raises(ValueError, match="unknown LLM 'gpt-9'.*mistral-7b-instruct"):
        options_for("full", tmp_path, {"model": "gpt-9"})


def test_prepare_full_offline_names_what_is_missing() -> None:
    # The real models directory: its embedded steps are already done (a check each), and the Hub's
    # models are not in its cache on a machine that has never reached the Hub.
    code = "import sys; from models.prepare import main; sys.exit(main(sys.argv[1:]))"
    run = subprocess.run(
        [sys.executable, "-c", code, "--profile", "full", "--offline", "--only", "llm", "asr"],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=300,
        env={k: v for k, v in os.environ.items() if k not in _HUB_ENV},
    )
    assert run.returncode == 1
    assert "could not prepare: llm (full), asr (full)" in run.stderr or \
        "could not prepare: asr (full), llm (full)" in run.stderr, run.stderr
    repo, filename, _ = FULL_MODELS[DEFAULT_FULL_MODEL]
    assert f"cannot fetch {repo}/{filename} from the cache (the Hub is offline" in run.stderr
    assert "cannot fetch Whisper large-v3 (Systran/faster-whisper-large-v3) from the cache" in run.stderr


def test_a_full_profile_without_its_weights_serves_on_the_embedded_models(tmp_path: Path) -> None:
    """This machine has no GPU and none of the Hub's weights: pose, ASR, TTS and the LLM fall back to
    the embedded models setup prepared, and /health says why for each; the scene families, which
    have no embedded model, are unavailable with their reason."""
    from models.health import HealthRegistry, ModelState
    from realtime.config import load_settings
    from realtime.model_hub import ModelHub

    hub = ModelHub(load_settings(None, data_dir=tmp_path, profile="full"), HealthRegistry())
    try:
        hub.start_loading(("pose", "asr", "tts", "llm", "lifting"))
        assert hub.wait_loaded(300)
        health = hub.health.snapshot()
        for family, why in (("pose", "yolov8s-pose"), ("asr", "large-v3"), ("tts", "Coqui Public Model License"),
                            ("llm", "Mistral-7B-Instruct")):
            assert health[family].state is ModelState.READY, health[family]
            assert "embedded fallback" in health[family].backend and why in health[family].backend
        assert hub.tts.languages == frozenset({"en"})
        assert health["asr"].source.endswith("whisper-base") and hub.asr.options.language is None  # multilingual
        assert health["lifting"].state is ModelState.UNAVAILABLE and "MotionBERT" in health["lifting"].reason
    finally:
        hub.close()
