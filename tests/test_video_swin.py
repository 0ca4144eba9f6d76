"""The video family on tiny configurations: backbone layout, loading, clip features, head, training script."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from models.video import (
    PHASES,
    TECHNIQUES,
    ClipFeatures,
    ClipHead,
    SwinConfig,
    VideoModelUnavailable,
    VideoOptions,
    VideoSwin3d,
    clip_indices,
    fit_head,
    load_backbone,
    swin3d_t,
)
from models.video.checkpoint import CHECKPOINT_URLS, hash_prefix, verify_hash
from models.video.swin3d import relative_position_index

pytestmark = pytest.mark.offline  # scripts/test.sh runs it beside another offline test

ROOT = Path(__file__).resolve().parent.parent
TINY = SwinConfig(window_size=(2, 3, 3), embed_dim=8, depths=(2, 1), num_heads=(2, 2), num_classes=5)
TINY_OPTIONS = VideoOptions(clip_length=8, input_size=32, device="cpu", threads=None)


@pytest.fixture(scope="module")
def tiny_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("video") / "tiny.pth"
    torch.save(VideoSwin3d(TINY).state_dict(), path)
    return path


def test_swin_t_has_torchvision_parameter_count_and_checkpoint_keys() -> None:
    model = swin3d_t()
    # torchvision's Swin3D_T_Weights.KINETICS400_V1 meta: num_params 28158070
    assert sum(p.numel() for p in model.parameters()) == 28_158_070
    shapes = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    assert len(shapes) == 185
    assert shapes["patch_embed.proj.weight"] == (96, 3, 2, 4, 4)
    assert shapes["patch_embed.norm.weight"] == (96,)
    assert shapes["features.0.0.attn.relative_position_bias_table"] == (15 * 13 * 13, 3)
    assert shapes["features.0.0.attn.relative_position_index"] == (392, 392)
    assert shapes["features.0.1.mlp.3.weight"] == (96, 384)
    assert shapes["features.1.reduction.weight"] == (192, 384)
    assert shapes["features.1.norm.weight"] == (384,)
    assert shapes["features.4.5.attn.qkv.weight"] == (1152, 384)
    assert shapes["features.6.1.attn.proj.bias"] == (768,)
    assert shapes["norm.weight"] == (768,)
    assert shapes["head.weight"] == (400, 768)
    assert model.config.num_features == 768


def test_tiny_checkpoint_round_trips_strictly(tiny_checkpoint: Path) -> None:
    torch.manual_seed(1)
    clip = torch.randn(2, 3, 8, 32, 32)
    original = VideoSwin3d(TINY).eval()
    original.load_state_dict(torch.load(tiny_checkpoint))
    loaded = load_backbone(tiny_checkpoint, TINY)
    with torch.no_grad():
        assert torch.equal(original.clip_features(clip), loaded.clip_features(clip))
        logits = loaded(clip)
    assert logits.shape == (2, 5)
    assert loaded.clip_features(clip).shape == (2, TINY.num_features)


def test_checkpoint_errors_say_what_is_wrong(tiny_checkpoint: Path, tmp_path: Path) -> None:
    state = torch.load(tiny_checkpoint)
    del state["features.0.1.attn.qkv.weight"]
    state["extra.weight"] = torch.zeros(1)
    broken = tmp_path / "broken.pth"
    torch.save(state, broken)
    named = r"1 missing: features\.0\.1\.attn\.qkv\.weight.*1 unexpected: extra\.weight"
    with pytest.raises(VideoModelUnavailable, match=named):
        load_backbone(broken, TINY)
    with pytest.raises(VideoModelUnavailable, match="wrong shape"):
        load_backbone(tiny_checkpoint, SwinConfig(window_size=(2, 3, 3), embed_dim=16, depths=(2, 1),
                                                  num_heads=(2, 2), num_classes=5))
    with pytest.raises(VideoModelUnavailable, match="missing"):
        load_backbone(tmp_path / "absent.pth", TINY)
    garbage = tmp_path / "garbage.pth"
    garbage.write_bytes(b"not a checkpoint")
    with pytest.raises(VideoModelUnavailable, match="corrupt"):
        load_backbone(garbage, TINY)


def test_hash_prefix_follows_torchvision_names(tmp_path: Path) -> None:
    assert hash_prefix(Path(CHECKPOINT_URLS["swin3d_t"])) == "7615ae03"
    assert hash_prefix(Path(CHECKPOINT_URLS["swin3d_b"])) == "24f7c7c6"
    wrong = tmp_path / "swin3d_t-7615ae03.pth"
    wrong.write_bytes(b"truncated download")
    with pytest.raises(VideoModelUnavailable, match="corrupt"):
        verify_hash(wrong)


@pytest.mark.parametrize("shape", [(1, 3, 8, 32, 32), (1, 3, 3, 37, 29), (1, 3, 1, 13, 45), (2, 3, 5, 33, 31)])
def test_windows_that_do_not_divide_the_input_are_padded(shape: tuple[int, ...]) -> None:
    torch.manual_seed(2)
    model = VideoSwin3d(TINY).eval()
    with torch.no_grad():
        features = model.clip_features(torch.randn(shape))
    assert features.shape == (shape[0], TINY.num_features)
    assert torch.isfinite(features).all()


def test_clips_in_a_batch_do_not_mix() -> None:
    torch.manual_seed(3)
    model = VideoSwin3d(TINY).eval()
    clips = torch.randn(3, 3, 6, 40, 36)
    with torch.no_grad():
        together = model.clip_features(clips)
        alone = torch.cat([model.clip_features(c[None]) for c in clips])
    torch.testing.assert_close(together, alone, rtol=1e-5, atol=1e-5)


def test_shrunk_time_window_uses_the_reference_bias_rows() -> None:
    # torchvision takes the top-left block of the full index; for a window shrunk in time only
    # that is the same as the index of the shrunk window, which is what this backbone looks up.
    full = relative_position_index((8, 7, 7), (8, 7, 7))
    shrunk = relative_position_index((4, 7, 7), (8, 7, 7))
    assert torch.equal(shrunk, full[: 4 * 49, : 4 * 49])


def test_clip_features_of_odd_sized_bgr_frames(tiny_checkpoint: Path) -> None:
    options = TINY_OPTIONS.model_copy(update={"checkpoint": tiny_checkpoint})
    clips = ClipFeatures(options, backbone=load_backbone(tiny_checkpoint, TINY))
    rng = np.random.default_rng(0)
    frames = [rng.integers(0, 256, (481, 641, 3), dtype=np.uint8) for _ in range(7)]
    feature = clips.features(frames)
    assert feature.shape == (TINY.num_features,) and feature.dtype == np.float32
    assert np.isfinite(feature).all()
    blue = np.zeros((480, 640, 3), np.uint8)
    blue[..., 0] = 255
    crop = clips.crop(blue)
    assert crop.shape == (32, 32, 3) and crop[..., 2].min() == 255 and crop[..., :2].max() == 0
    assert clips.feature_config == {"backbone": "custom", "dim": 16, "clip_length": 8, "input_size": 32,
                                    "sample_rate_hz": 15.0}


def test_clip_indices_end_at_the_frame_and_sample_at_the_rate() -> None:
    options = VideoOptions(clip_length=4, sample_rate_hz=15.0)
    assert clip_indices(100, 30.0, options) == [94, 96, 98, 100]
    assert clip_indices(2, 30.0, options) == [0, 0, 0, 2]
    assert clip_indices(10, 10.0, options) == [7, 8, 9, 10]


def _separable(rng: np.random.Generator, classes: int, per_class: int, dim: int) -> tuple[np.ndarray, np.ndarray]:
    centres = rng.normal(0.0, 3.0, (classes, dim))
    labels = np.repeat(np.arange(classes), per_class)
    return centres[labels] + rng.normal(0.0, 0.3, (len(labels), dim)), labels


def test_head_learns_separable_features_and_survives_a_round_trip(tmp_path: Path) -> None:
    rng = np.random.default_rng(4)
    phase_x, phase_y = _separable(rng, len(PHASES), 20, 16)
    technique_x, technique_y = _separable(rng, len(TECHNIQUES), 20, 16)
    config = {"backbone": "custom", "dim": 16}
    head = fit_head(phase_x, phase_y, technique_x, technique_y, config, steps=200, seed=0)
    phase_p, technique_p = head.probabilities(phase_x)[0], head.probabilities(technique_x)[1]
    assert (phase_p.argmax(1) == phase_y).all() and (technique_p.argmax(1) == technique_y).all()
    reading = head.predict(phase_x[-1].astype(np.float32))
    assert reading.phase == PHASES[-1]
    assert set(reading.phase_probabilities) == set(PHASES) and set(reading.technique_probabilities) == set(TECHNIQUES)
    assert sum(reading.phase_probabilities.values()) == pytest.approx(1.0, abs=1e-5)

    again = fit_head(phase_x, phase_y, technique_x, technique_y, config, steps=200, seed=0)
    np.testing.assert_array_equal(again.phase_weight, head.phase_weight)

    path = tmp_path / "video" / "head.npz"
    head.save(path)
    loaded = ClipHead.load(path)
    for ours, theirs in zip(head.probabilities(phase_x), loaded.probabilities(phase_x)):
        np.testing.assert_array_equal(ours, theirs)
    loaded.check_features(config)
    with pytest.raises(VideoModelUnavailable, match="fitted on features"):
        loaded.check_features({"backbone": "swin3d_t", "dim": 768})
    with pytest.raises(VideoModelUnavailable, match="missing"):
        ClipHead.load(tmp_path / "absent.npz")


def test_training_script_writes_a_head_from_real_clips(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from training.real_data import real_data_root

    if real_data_root() is None:
        pytest.skip("the real development set (../shared/data/real) is not on this machine")
    spec = importlib.util.spec_from_file_location("train_video_head", ROOT / "scripts" / "train_video_head.py")
    script = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, script)  # its dataclasses look their module up
    spec.loader.exec_module(script)
    out = tmp_path / "clip_head.npz"
    threads = torch.get_num_threads()
    try:
        assert script.main(["--tiny", "--limit", "1", "--out", str(out)]) == 0
    finally:
        torch.set_num_threads(threads)
    head = ClipHead.load(out)
    assert head.dim == script.TINY.num_features
    assert head.feature_config["backbone"] == "custom" and head.feature_config["clip_length"] == 4
    assert head.predict(np.zeros(head.dim, np.float32)).technique in TECHNIQUES
