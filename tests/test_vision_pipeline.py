"""One session's frames in two stages: the next frame's pose runs while this one is coached,
only while the vision workers have room for it, and frames are always coached in order.

Fakes with a scripted cost stand in for the pose model and the coaching (the real loop, slot,
worker pool, CPU share and metrics run as in the server)."""

from __future__ import annotations

import asyncio
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace

import av
import numpy as np

from models.pose import Person, PoseOptions
from realtime.cpu_share import CpuShare
from realtime.media.frame_slot import LatestFrameSlot
from realtime.metrics import ServerMetrics
from realtime.protocol import ErrorMessage, PoseOverlay
from realtime.vision_loop import VisionLoop

POSE_S = 0.04
COACH_S = 0.03


class Timeline:
    """When each frame's pose and coaching ran (frame number read from the image's pixels)."""

    def __init__(self) -> None:
        self.pose: dict[int, tuple[float, float]] = {}
        self.coached: list[tuple[int, float, float]] = []
        self.lock = threading.Lock()


class SlowPose:
    options = PoseOptions()
    refiner = None

    def __init__(self, timeline: Timeline, fail_on: int | None = None) -> None:
        self.timeline = timeline
        self.fail_on = fail_on

    def infer_2d(self, image: np.ndarray) -> list[Person]:
        start = time.monotonic()
        frame = int(image[0, 0, 0])
        time.sleep(POSE_S)
        with self.timeline.lock:
            self.timeline.pose[frame] = (start, time.monotonic())
        if frame == self.fail_on:
            raise RuntimeError("the pose model threw")
        k = np.zeros((17, 3), np.float32)
        k[:, :2], k[:, 2] = [[320.0, 100.0 + 15 * i] for i in range(17)], 0.9
        return [Person(keypoints=k, box=np.array([250, 80, 390, 360], np.float32), score=0.9)]


def _loop(timeline: Timeline, other_streams: int, fail_on: int | None = None
          ) -> tuple[VisionLoop, LatestFrameSlot[av.VideoFrame], list[object]]:
    pool = ThreadPoolExecutor(2)
    hub = SimpleNamespace(pose=SlowPose(timeline, fail_on), action=None, scene_expected=False, vision_pool=pool,
                          settings=SimpleNamespace(vision_workers=2), vision_streams=other_streams, cpu=CpuShare(),
                          analysis_load=SimpleNamespace(record=lambda seconds: None))
    slot: LatestFrameSlot[av.VideoFrame] = LatestFrameSlot()
    sent: list[object] = []
    conversation = SimpleNamespace(answering=False, on_coach_event=lambda event: None, refresh_context=lambda: None)
    session = SimpleNamespace(id="s", ctx=SimpleNamespace(hub=hub, metrics=ServerMetrics()),
                              prefs=SimpleNamespace(exercise="squat"), frames=slot, send=sent.append,
                              spawn=lambda coro, name: None, frames_analysed=0, conversation=conversation)
    loop = VisionLoop(session)
    coach = loop.analyzer.process_detected

    def slow_coach(image: np.ndarray, people: list[Person], t: float):  # type: ignore[no-untyped-def]
        start = time.monotonic()
        time.sleep(COACH_S)
        result = coach(image, people, t)
        timeline.coached.append((int(image[0, 0, 0]), start, time.monotonic()))
        return result

    loop.analyzer.process_detected = slow_coach  # type: ignore[method-assign]
    return loop, slot, sent


async def _stream(loop: VisionLoop, slot: LatestFrameSlot[av.VideoFrame], frames: int) -> None:
    """A camera at 30 fps for `frames` frames, each frame's number in its pixels, then closed."""
    run = asyncio.create_task(loop.run())
    for i in range(1, frames + 1):
        image = np.full((48, 64, 3), i, np.uint8)
        slot.put(av.VideoFrame.from_ndarray(image, format="bgr24"), time.monotonic())
        await asyncio.sleep(1 / 30)
    slot.close()
    await asyncio.wait_for(run, 5)


def _overlaps(a: tuple[float, float], b: tuple[float, float]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


async def test_alone_the_next_frames_pose_runs_while_this_one_is_coached_in_order() -> None:
    timeline = Timeline()
    loop, slot, sent = _loop(timeline, other_streams=0)
    await _stream(loop, slot, 30)
    order = [frame for frame, _, _ in timeline.coached]
    assert order == sorted(order) and len(order) >= 10
    overlays = [m.frame for m in sent if isinstance(m, PoseOverlay)]
    assert overlays == sorted(overlays) and len(overlays) == len(order)
    ahead = sum(any(_overlaps(timeline.pose[nxt], (start, end)) for nxt in timeline.pose if nxt > frame)
                for frame, start, end in timeline.coached)
    assert ahead >= len(order) // 2, "the next frame's pose should run beside this one's coaching"
    assert loop.hub.vision_streams == 0


async def test_beside_another_stream_one_frame_at_a_time() -> None:
    timeline = Timeline()
    loop, slot, _ = _loop(timeline, other_streams=1)
    await _stream(loop, slot, 20)
    spans = sorted([*timeline.pose.values(), *[(s, e) for _, s, e in timeline.coached]])
    assert all(a[1] <= b[0] + 1e-3 for a, b in zip(spans, spans[1:])), "no stage ran beside another"
    assert loop.hub.vision_streams == 1


async def test_a_frame_whose_pose_throws_is_reported_and_the_next_ones_are_coached() -> None:
    timeline = Timeline()
    loop, slot, sent = _loop(timeline, other_streams=0, fail_on=3)
    await _stream(loop, slot, 12)
    assert [m.code for m in sent if isinstance(m, ErrorMessage)] == ["pose_failed"]
    coached = [frame for frame, _, _ in timeline.coached]
    assert 3 not in coached and any(frame > 3 for frame in coached)
