"""The live vision loop with the real pose model over real aiortc sessions."""

from __future__ import annotations

import asyncio
import time

import numpy as np
import pytest

from tests.media import sports2d_demo_video
from tests.rtc_client import ArrayVideoTrack, RtcTestClient, load_phone_frames, load_video_frames, play_clip
from training.real_data import real_data_root

pytestmark = pytest.mark.slow


async def stream(server, make_frame) -> RtcTestClient:  # noqa: ANN001
    client = RtcTestClient(server.url, video=ArrayVideoTrack(make_frame))
    await client.connect()
    await client.wait_for(lambda m: m["type"] == "hello")
    return client


async def wait_for_poses(client: RtcTestClient, at_least: int, timeout: float = 20.0) -> list[dict]:
    """The pose messages once `at_least` have come: how soon depends on the machine's speed, which
    benchmarks/vision.py measures, not this test."""
    deadline = time.monotonic() + timeout
    while len(got := [m for m in client.messages if m["type"] == "pose"]) < at_least:
        assert time.monotonic() < deadline, f"{len(got)} pose messages in {timeout} s"
        await asyncio.sleep(0.1)
    return got


async def test_real_person_gets_an_overlay_in_frame_coordinates(start_server, loaded_hub) -> None:
    server = await start_server(hub=loaded_hub)
    frames = load_video_frames(str(sports2d_demo_video()), fps=30, max_frames=60)
    client = await stream(server, lambda i: frames[i % len(frames)])
    try:
        poses = await wait_for_poses(client, 31)
        tracked = [p for p in poses if p.get("keypoints")]
        assert len(tracked) > 0.8 * len(poses)
        assert {p["subject"] for p in tracked} == {tracked[0]["subject"]}  # one stable id
        xs = [k[0] for p in tracked for k in p["keypoints"] if k[2] > 0.3]
        assert xs and all(0.0 <= x <= 1.0 for x in xs)
        assert max(p["latency_ms"] for p in poses) < 1000
        registry = server.ctx.metrics.registry
        assert registry.get_sample_value("coach_video_frames_processed_total") >= len(poses)
        assert registry.get_sample_value("coach_stage_latency_seconds_count", {"stage": "frame_to_overlay"}) > 0
    finally:
        await client.close()


@pytest.mark.parametrize("size", [(322, 242), (1280, 720), (240, 426)])
async def test_odd_sizes_and_black_frames_flow_without_a_person(start_server, loaded_hub, size) -> None:
    server = await start_server(hub=loaded_hub)
    width, height = size
    client = await stream(server, lambda i: np.zeros((height, width, 3), np.uint8))
    try:
        poses = await wait_for_poses(client, 11)
        assert all(p["people"] == 0 and "keypoints" not in p for p in poses)
        assert (poses[-1]["width"], poses[-1]["height"]) == (width, height)
        assert not [m for m in client.messages if m["type"] == "error"]
    finally:
        await client.close()


@pytest.mark.skipif(real_data_root() is None, reason="the real development set (../shared/data/real) is not here")
async def test_a_real_persons_push_ups_sent_as_a_phone_sends_them_are_counted_live(start_server, loaded_hub) -> None:
    """WorkoutTracker's `push-up_1` (two reps marked; side view, 1080p), upright at 640 px, VP8,
    30 fps, the exercise chosen: two reps counted, as they are on every frame of the clip
    (benchmarks/live_reps.py measures all 54 clips)."""
    root = real_data_root()
    assert root is not None
    frames = load_phone_frames(str(root / "videos/workouttracker/push_up/push-up_1.mp4"))
    server = await start_server(hub=loaded_hub)
    messages, _ = await play_clip(server.url, frames, "push_up")
    events = [m["event"] for m in messages if m["type"] == "event"]
    reps = [e for e in events if e["type"] == "rep_completed"]
    assert [(e["exercise"], e["rep"]) for e in reps] == [("push_up", 1), ("push_up", 2)]
