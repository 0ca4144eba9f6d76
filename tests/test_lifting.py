"""MotionBERT-Lite lifting family: network layout, checkpoint loading, joint mapping, live lifter, 3D measures.

Everything runs on tiny networks built here (the real checkpoint is not fetched in tests); the
Lite configuration is only constructed, to check its size and key names against the published file.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch

from models.lifting import (
    H36M,
    DSTformer,
    LiftingModelUnavailable,
    LiftingOptions,
    MotionLifter,
    coco_to_h36m,
    load_model,
    load_weights,
    measure,
    normalize_box,
    normalize_screen,
)

TINY = {"dim_feat": 16, "dim_rep": 32, "depth": 1, "num_heads": 2, "maxlen": 27}


def tiny_model(seed: int = 0) -> DSTformer:
    torch.manual_seed(seed)
    return DSTformer(**TINY).eval()


def save_like_motionbert(model: DSTformer, path: Path, drop: str | None = None) -> Path:
    """A checkpoint laid out as MotionBERT's train.py saves it, from a numpy 1.x process.

    nn.DataParallel's `module.` prefix, the optimiser state and a numpy float64 `min_loss`; the
    pickle then names numpy's scalar as numpy 1.x did (numpy.core, not numpy._core).
    """
    optimizer = torch.optim.AdamW(model.parameters(), lr=5e-4)
    model(torch.randn(1, 4, 17, 3)).sum().backward()
    optimizer.step()
    state = {f"module.{key}": value for key, value in model.state_dict().items() if key != drop}
    torch.save({"epoch": 60, "lr": 4e-4, "optimizer": optimizer.state_dict(), "model_pos": state,
                "min_loss": np.float64(37.2)}, path)
    with zipfile.ZipFile(path) as archive:
        entries = {info.filename: archive.read(info) for info in archive.infolist()}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        for name, data in entries.items():
            if name.endswith("data.pkl"):
                assert b"numpy._core.multiarray\nscalar" in data
                data = data.replace(b"numpy._core.multiarray\nscalar", b"numpy.core.multiarray\nscalar")
            archive.writestr(name, data)
    return path


def coco_person(x0: float = 300.0, y0: float = 100.0, scale: float = 1.0) -> np.ndarray:
    """A standing person facing the camera, COCO order, pixels (the person's left is image right)."""
    points = {
        0: (0, 0), 1: (8, -8), 2: (-8, -8), 3: (16, -4), 4: (-16, -4),
        5: (40, 60), 6: (-40, 60), 7: (50, 130), 8: (-50, 130), 9: (55, 200), 10: (-55, 200),
        11: (25, 200), 12: (-25, 200), 13: (28, 300), 14: (-28, 300), 15: (30, 400), 16: (-30, 400),
    }
    out = np.ones((17, 3))
    for index, (x, y) in points.items():
        out[index, :2] = (x0 + x * scale, y0 + y * scale)
    return out


# --- network and checkpoint -------------------------------------------------------------------

def test_lite_matches_the_published_layout() -> None:
    model = DSTformer.lite()
    state = model.state_dict()
    # 16.0M parameters: the 61 MB of float32 the model zoo lists for MotionBERT-Lite.
    assert sum(p.numel() for p in model.parameters()) == 16_001_549
    assert len(state) == 260  # as many tensors as the published full-size file (same tree, wider)
    expected = {
        "joints_embed.weight": (256, 3),
        "pos_embed": (1, 17, 256),
        "temp_embed": (1, 243, 1, 256),
        "blocks_st.0.norm1_s.weight": (256,),
        "blocks_st.0.attn_s.qkv.weight": (768, 256),
        "blocks_st.0.attn_t.proj.bias": (256,),
        "blocks_ts.4.mlp_t.fc1.weight": (1024, 256),
        "blocks_ts.4.mlp_s.fc2.bias": (256,),
        "ts_attn.4.weight": (2, 512),
        "norm.weight": (256,),
        "pre_logits.fc.weight": (512, 256),
        "head.weight": (3, 512),
    }
    assert {key: tuple(state[key].shape) for key in expected} == expected
    assert model.blocks_st[0].norm1_s.eps == 1e-6  # load_backbone's LayerNorm


def test_checkpoint_round_trip_is_exact(tmp_path: Path) -> None:
    source = tiny_model(seed=1)
    path = save_like_motionbert(source, tmp_path / "best_epoch.bin")
    loaded = load_weights(tiny_model(seed=2), path)
    clip = torch.randn(2, 27, 17, 3)
    with torch.inference_mode():
        assert torch.equal(source(clip), loaded(clip))
        assert torch.equal(source.get_representation(clip), loaded.get_representation(clip))


def test_checkpoint_errors_name_the_problem(tmp_path: Path) -> None:
    with pytest.raises(LiftingModelUnavailable, match="no MotionBERT checkpoint at .*walterzhu/MotionBERT"):
        load_weights(tiny_model(), tmp_path / "absent.bin")

    path = save_like_motionbert(tiny_model(), tmp_path / "short.bin", drop="blocks_st.0.attn_t.qkv.weight")
    with pytest.raises(LiftingModelUnavailable, match=r"1 missing: blocks_st\.0\.attn_t\.qkv\.weight"):
        load_weights(tiny_model(), path)

    path = save_like_motionbert(tiny_model(), tmp_path / "other.bin")
    wider = DSTformer(**{**TINY, "dim_rep": 64, "depth": 2})
    with pytest.raises(LiftingModelUnavailable, match=r"unexpected|missing") as error:
        load_weights(wider, path)
    assert "blocks_st.1." in str(error.value) and "pre_logits.fc.weight (32, 16) in the file" in str(error.value)

    (tmp_path / "garbage.bin").write_bytes(b"<html>OneDrive sign-in</html>")
    with pytest.raises(LiftingModelUnavailable, match="not a readable torch checkpoint"):
        load_weights(tiny_model(), tmp_path / "garbage.bin")
    (tmp_path / "cut.bin").write_bytes(path.read_bytes()[:2000])
    with pytest.raises(LiftingModelUnavailable, match="not a readable torch checkpoint"):
        load_weights(tiny_model(), tmp_path / "cut.bin")

    torch.save({"state_dict": {}}, tmp_path / "foreign.bin")
    with pytest.raises(LiftingModelUnavailable, match="no 'model_pos'.*state_dict"):
        load_weights(tiny_model(), tmp_path / "foreign.bin")


def test_shorter_clips_than_maxlen() -> None:
    model = tiny_model()
    with torch.inference_mode():
        assert model(torch.randn(1, 5, 17, 3)).shape == (1, 5, 17, 3)
        assert model.get_representation(torch.randn(3, 27, 17, 3)).shape == (3, 27, 17, 32)
        with pytest.raises(ValueError, match="longer than"):
            model(torch.randn(1, 28, 17, 3))


# --- joints -----------------------------------------------------------------------------------

def test_coco_maps_to_h36m() -> None:
    coco = coco_person()
    coco[11, 2], coco[12, 2] = 0.8, 0.6
    h36m = coco_to_h36m(coco)
    np.testing.assert_allclose(h36m[H36M["pelvis"]], [(325 + 275) / 2, 300, 0.7])
    np.testing.assert_allclose(h36m[H36M["thorax"], :2], [300, 160])
    np.testing.assert_allclose(h36m[H36M["spine"], :2], [300, 230])
    np.testing.assert_allclose(h36m[H36M["nose"]], coco[0])
    for side, offset in (("left", 0), ("right", 1)):
        for joint, coco_index in (("hip", 11), ("knee", 13), ("ankle", 15), ("shoulder", 5), ("elbow", 7),
                                  ("wrist", 9)):
            np.testing.assert_allclose(h36m[H36M[f"{side}_{joint}"]], coco[coco_index + offset])
    head = h36m[H36M["head"]]
    assert head[1] < coco[1, 1] and head[0] == pytest.approx(300)  # above the eyes, on the midline


def test_missing_coco_joints_stay_missing() -> None:
    coco = coco_person()
    coco[12] = np.nan  # right hip lost
    coco[9, 2] = 0.0  # left wrist with no confidence
    h36m = coco_to_h36m(coco)
    for joint in ("right_hip", "pelvis", "spine", "left_wrist"):
        assert np.isnan(h36m[H36M[joint], :2]).all() and h36m[H36M[joint], 2] == 0
    assert np.isfinite(h36m[H36M["thorax"]]).all()


def test_normalisation() -> None:
    h36m = coco_to_h36m(coco_person(x0=320, y0=40))
    screen = normalize_screen(h36m, 640, 480)
    np.testing.assert_allclose(screen[H36M["thorax"], :2], [0.0, (100 - 240) / 240])
    np.testing.assert_allclose(screen[:, 2], h36m[:, 2])
    box = normalize_box(h36m[None])[0]
    assert box[:, :2].min() == pytest.approx(-1) and box[:, 1].max() == pytest.approx(1)
    assert box[H36M["pelvis"], 0] == pytest.approx(0)


# --- live lifter ------------------------------------------------------------------------------

def test_lifter_window() -> None:
    options = LiftingOptions(window=12, min_frames=4, device="cpu", threads=1, architecture=TINY)
    lifter = MotionLifter(tiny_model(), options)
    for frame in range(3):
        lifter.push(coco_person(x0=300 + frame), 640, 480)
        assert lifter.lift() is None
    lifter.push(coco_person(x0=303), 640, 480)
    lifted = lifter.lift()
    assert lifted is not None and lifted.frames == 4
    assert lifted.joints.shape == (17, 3) and lifted.joints.dtype == np.float32
    assert lifted.embedding.shape == (32,) and np.isfinite(lifted.embedding).all()
    np.testing.assert_allclose(lifted.joints[0], 0.0, atol=1e-6)  # root-relative
    for frame in range(20):
        lifter.push(coco_person(x0=300 + frame), 640, 480)
    assert len(lifter) == 12 and lifter.lift().frames == 12
    lifter.reset()
    assert len(lifter) == 0 and lifter.lift() is None


def test_lifter_survives_missing_joints() -> None:
    for normalization in ("screen", "box"):
        options = LiftingOptions(window=6, min_frames=1, device="cpu", threads=1, flip=True,
                                 normalization=normalization, architecture=TINY)
        lifter = MotionLifter(tiny_model(), options)
        gone = coco_person()
        gone[[1, 2, 3, 4, 15]] = np.nan  # face and left ankle never seen
        lifter.push(gone, 640, 480)
        assert np.isfinite(lifter.lift().joints).all()
        lifter.push(coco_person(), 640, 480)
        lost = coco_person()
        lost[13, 2] = 0.0  # left knee drops out: carried from the frame before
        lifter.push(lost, 640, 480)
        lifter.push(np.full((17, 3), np.nan), 640, 480)  # nobody detected at all
        lifted = lifter.lift()
        assert np.isfinite(lifted.joints).all() and np.isfinite(lifted.embedding).all()
        clip = lifter._model_input()
        assert np.isfinite(clip).all() and np.abs(clip).max() <= 2
        np.testing.assert_allclose(clip[0, H36M["left_ankle"]], 0.0)  # unseen: masked as in pretraining
        assert clip[2, H36M["left_knee"], 2] == 0 and clip[2, H36M["left_knee"], 0] == clip[1, H36M["left_knee"], 0]


def test_load_model_and_flip_symmetry(tmp_path: Path) -> None:
    path = save_like_motionbert(tiny_model(seed=3), tmp_path / "best_epoch.bin")
    options = LiftingOptions(checkpoint=path, window=8, min_frames=8, device="cpu", flip=True, architecture=TINY)
    lifter = MotionLifter(load_model(options, tmp_path), options)
    for _ in range(8):
        lifter.push(coco_person(x0=320, y0=40), 640, 480)  # left-right symmetric and centred
    joints = lifter.lift().joints
    # Flip averaging makes a mirror-symmetric input give a mirror-symmetric pose, whatever the weights.
    for left, right in (("left_knee", "right_knee"), ("left_wrist", "right_wrist")):
        np.testing.assert_allclose(joints[H36M[left], 0], -joints[H36M[right], 0], atol=1e-5)
        np.testing.assert_allclose(joints[H36M[left], 1:], joints[H36M[right], 1:], atol=1e-5)
    with pytest.raises(ValueError, match="longer than the model"):
        MotionLifter(tiny_model(), LiftingOptions(window=30, device="cpu"))


# --- 3D measures ------------------------------------------------------------------------------

SHIN_SHARE = 0.35


def squat_frame(knee_angle: float, knee_in: float = 0.0) -> np.ndarray:
    """Human3.6M joints of a side-symmetric squat, y down, z away from the camera (units: thigh = shin = 1).

    Ankles fixed on the floor; each knee bends to `knee_angle`, the thigh taking 65% of the bend
    and the shin 35% (tilting forward, toward the camera), and moves `knee_in` toward the midline.
    """
    bend = np.radians(180.0 - knee_angle)
    shin, thigh = SHIN_SHARE * bend, (1 - SHIN_SHARE) * bend  # tilts from vertical
    joints = np.zeros((17, 3))
    for side, x in (("left", 0.2), ("right", -0.2)):
        ankle = np.array([x, 0.0, 0.0])
        knee = ankle + [0.0, -np.cos(shin), -np.sin(shin)]  # up and toward the camera
        knee[0] -= np.sign(x) * knee_in
        hip = knee + [0.0, -np.cos(thigh), np.sin(thigh)]
        hip[0] = x
        joints[H36M[f"{side}_ankle"]], joints[H36M[f"{side}_knee"]], joints[H36M[f"{side}_hip"]] = ankle, knee, hip
        joints[H36M[f"{side}_shoulder"]] = hip + [0.0, -1.0, 0.0]
    joints[H36M["pelvis"]] = (joints[H36M["left_hip"]] + joints[H36M["right_hip"]]) / 2
    joints[H36M["thorax"]] = joints[H36M["pelvis"]] + [0.0, -1.0, 0.0]
    return joints


def test_squat_measures_follow_the_motion() -> None:
    bottom = 70.0
    path = np.concatenate([np.linspace(180, bottom, 12), np.linspace(bottom, 180, 12)])
    measures = [measure(squat_frame(angle)) for angle in path]
    knees = np.array([m.knee_angle_left for m in measures])
    np.testing.assert_allclose(knees, path, atol=1e-6)
    np.testing.assert_allclose([m.knee_angle_right for m in measures], path, atol=1e-6)
    assert knees.argmin() in (11, 12) and knees.min() == pytest.approx(bottom)
    standing, deepest = measures[0], measures[11]
    assert standing.squat_depth == pytest.approx(1.0) and standing.hip_angle_left == pytest.approx(180)
    # At a 70 degree knee the thighs are 0.65 x 110 = 71.5 degrees from vertical: the hip is cos(71.5)
    # thigh lengths above the knee, and the (upright) trunk meets the thigh at 180 - 71.5.
    assert deepest.squat_depth == pytest.approx(np.cos(np.radians(71.5)))
    assert deepest.hip_angle_right == pytest.approx(180 - 71.5)
    assert all(m.trunk_lean == pytest.approx(0, abs=1e-6) for m in measures)
    assert all(abs(m.knee_inward_left) < 1e-9 and abs(m.knee_inward_right) < 1e-9 for m in measures)
    below = measure(squat_frame(40.0))
    assert below.squat_depth < 0  # hips below the knees

    caved = measure(squat_frame(90.0, knee_in=0.15))
    assert caved.knee_inward_left == pytest.approx(0.15, rel=0.05)
    assert caved.knee_inward_right == pytest.approx(0.15, rel=0.05)
    pushed = measure(squat_frame(90.0, knee_in=-0.1))
    assert pushed.knee_inward_left < 0 and pushed.knee_inward_right < 0


def test_trunk_lean_and_tilted_camera() -> None:
    joints = squat_frame(120.0)
    joints[H36M["thorax"]] = joints[H36M["pelvis"]] + [0.0, -np.cos(np.radians(30)), np.sin(np.radians(30))]
    assert measure(joints).trunk_lean == pytest.approx(30)
    # The same body seen by a camera rolled 90 degrees: vertical is then the image's x axis.
    rolled = joints[:, [1, 0, 2]] * [-1, 1, 1]
    assert measure(rolled, up=np.array([1.0, 0.0, 0.0])).trunk_lean == pytest.approx(30)


# --- setup ------------------------------------------------------------------------------------

def test_prepare_full_without_the_hub_says_where(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import huggingface_hub

    from models.lifting import prepare_full

    def offline(*args: object, **kwargs: object) -> str:
        raise huggingface_hub.errors.LocalEntryNotFoundError("offline")

    monkeypatch.setattr(huggingface_hub, "hf_hub_download", offline)
    target = LiftingOptions().checkpoint_path(tmp_path)
    with pytest.raises(LiftingModelUnavailable, match=f"1drv.ms.*put it at {target}"):
        prepare_full(tmp_path)

    target.parent.mkdir(parents=True)
    save_like_motionbert(tiny_model(), target)  # present, but not MotionBERT-Lite: removed for a fresh fetch
    with pytest.raises(LiftingModelUnavailable, match="does not fit"):
        prepare_full(tmp_path)
    assert not target.exists()
