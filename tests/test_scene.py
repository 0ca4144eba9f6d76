"""The full profile's scene readings (realtime/scene.py) on tiny models of the real architectures,
built here with the real checkpoint layouts: loaded through the hub's own loaders, then read live
beside the vision loop on a real person's video over a real aiortc session. The real weights need
the Hub and a GPU; these tests run the same code on random ones."""

from __future__ import annotations

import asyncio
import time

import numpy as np
import pytest
import torch

from models.health import HealthRegistry, ModelState
from models.video import PHASES, TECHNIQUES, ClipFeatures, SwinConfig, VideoOptions, VideoSwin3d, fit_head
from realtime.config import load_settings
from realtime.model_hub import ModelHub, families_for
from realtime.scene import LoadedVideo, SceneReader
from tests.media import sports2d_demo_video
from tests.rtc_client import ArrayVideoTrack, RtcTestClient, load_video_frames
from tests.test_lifting import TINY as TINY_LIFTING
from tests.test_lifting import save_like_motionbert, tiny_model
from tests.tiny_blip2 import save_tiny_blip2

TINY_SWIN = SwinConfig(window_size=(2, 3, 3), embed_dim=8, depths=(2, 1), num_heads=(2, 2), num_classes=5)
TINY_VIDEO = VideoOptions(clip_length=8, input_size=32, device="cpu", threads=None)


def tiny_video() -> LoadedVideo:
    """A tiny Swin and a head fitted on its features of a few random clips (phases and techniques)."""
    torch.manual_seed(0)
    features = ClipFeatures(TINY_VIDEO, backbone=VideoSwin3d(TINY_SWIN))
    rng = np.random.default_rng(0)
    clips = rng.integers(0, 255, (6, 8, 32, 32, 3), dtype=np.uint8)
    x = features.features_of_crops(clips)
    head = fit_head(x, np.arange(6) % len(PHASES), x, np.arange(6) % len(TECHNIQUES), features.feature_config,
                    steps=50)
    return LoadedVideo(features, head)


@pytest.fixture(scope="module")
def scene_hub(tmp_path_factory: pytest.TempPathFactory) -> ModelHub:
    """A full-profile hub with the real pose model and tiny scene families, through their loaders."""
    folder = tmp_path_factory.mktemp("scene")
    tiny_blip2 = save_tiny_blip2(folder / "blip2")
    checkpoint = save_like_motionbert(tiny_model(), folder / "best_epoch.bin")
    settings = load_settings(None, data_dir=folder, profile="full", models={
        "pose": {"backend": "yolo", "model": "yolo11n-pose"},
        "lifting": {"checkpoint": str(checkpoint), "architecture": TINY_LIFTING, "device": "cpu", "window": 27},
        "video": {"checkpoint": str(folder / "no-such-swin.pth")},
        "caption": {"model": str(tiny_blip2), "device": "cpu", "every_s": 1.0},
    })
    hub = ModelHub(settings, HealthRegistry())
    hub.start_loading(("pose", "lifting", "video", "caption"))
    assert hub.wait_loaded(120)
    yield hub
    hub.close()


def test_the_full_profile_loads_the_scene_families_and_says_why_one_is_missing(scene_hub: ModelHub) -> None:
    assert {"lifting", "video", "caption"} <= set(families_for("full"))
    assert not {"lifting", "video", "caption"} & set(families_for("embedded"))
    health = scene_hub.health.snapshot()
    assert health["lifting"].state is ModelState.READY and "MotionBERT-Lite, torch cpu" in health["lifting"].backend
    assert health["caption"].state is ModelState.READY and "cpu" in health["caption"].backend
    assert health["video"].state is ModelState.UNAVAILABLE and "no-such-swin.pth" in health["video"].reason
    assert scene_hub.scene_expected and scene_hub.caption_every_s == 1.0


async def test_scene_readings_become_facts_and_a_throwing_model_is_only_logged(scene_hub: ModelHub) -> None:
    """The reader on a scripted clock: frames and keypoints offered as the vision thread does."""
    now = [0.0]
    scene_hub.video = tiny_video()
    try:
        reader = SceneReader(scene_hub, clock=lambda: now[0])
        frames = load_video_frames(str(sports2d_demo_video()), fps=30, max_frames=30)
        people = [scene_hub.pose.infer_2d(frame) for frame in frames]
        task = asyncio.get_running_loop().create_task(reader.run())
        for i, (frame, found) in enumerate(zip(frames, people, strict=True)):
            now[0] = i / 30
            reader.offer(frame, found[0].keypoints if found else None, 1, now[0])
            await asyncio.sleep(0.02)
        deadline = time.monotonic() + 20
        while len(reader.fact_lines()) < 3 and time.monotonic() < deadline:
            now[0] += 0.5
            await asyncio.sleep(0.2)
        lines = reader.fact_lines()
        assert any(line.startswith("3D pose over the last 10 s: at the lowest the hips were") for line in lines), lines
        assert any(line.startswith("Video model on the last second: phase ") for line in lines), lines
        # A model that throws: logged and counted, the other readings go on.
        scene_hub.video = LoadedVideo(scene_hub.video.features, None)
        broken = scene_hub.caption
        scene_hub.caption = type("Broken", (), {"caption": lambda self, image: 1 / 0})()
        errors = reader.errors
        now[0] += 5
        await asyncio.sleep(0.5)
        assert reader.errors > errors and not task.done()
        scene_hub.caption = broken
        task.cancel()
    finally:
        scene_hub.video = None


@pytest.mark.slow
async def test_a_live_session_reads_the_scene_beside_the_vision_loop(start_server, scene_hub: ModelHub) -> None:
    scene_hub.video = tiny_video()
    frames = load_video_frames(str(sports2d_demo_video()), fps=30, max_frames=60)
    server = await start_server(hub=scene_hub, profile="full")
    client = RtcTestClient(server.url, video=ArrayVideoTrack(lambda i: frames[i % len(frames)]))
    try:
        await client.connect()
        await client.wait_for(lambda m: m["type"] == "hello")
        deadline = time.monotonic() + 30
        while True:
            sessions = list(server.sessions.values())
            lines = sessions[0].measured_facts()[0] if sessions else []
            if sum(line.startswith(("3D pose", "Video model")) for line in lines) == 2:
                break
            assert time.monotonic() < deadline, lines
            await asyncio.sleep(0.25)
        poses = [m for m in client.messages if m["type"] == "pose"]
        assert len(poses) > 10  # the vision loop kept going beside the scene readings
    finally:
        await client.close()
        scene_hub.video = None
