"""A camera session that started before the pose family finished loading gets all of it once it has."""

from __future__ import annotations

from types import SimpleNamespace

import av
import numpy as np

from models.pose import Person, PoseOptions
from realtime.media.frame_slot import Stamped
from realtime.vision_loop import VisionLoop


class Refiner:
    def __init__(self) -> None:
        self.calls = 0

    def refine_person(self, image: np.ndarray, person: Person) -> Person:
        self.calls += 1
        return person


class LatePose:
    options = PoseOptions(score_threshold=0.6)

    def __init__(self) -> None:
        self.refiner = Refiner()

    def infer_2d(self, image: np.ndarray) -> list[Person]:
        k = np.zeros((17, 3), np.float32)
        k[:, :2], k[:, 2] = [[320.0, 100.0 + 15 * i] for i in range(17)], 0.9
        return [Person(keypoints=k, box=np.array([250, 80, 390, 360], np.float32), score=0.9)]


def test_the_refiner_and_threshold_of_a_pose_family_loaded_after_the_session_began() -> None:
    hub = SimpleNamespace(pose=None, action=None, scene_expected=False,
                          analysis_load=SimpleNamespace(record=lambda seconds: None))
    loop = VisionLoop(SimpleNamespace(ctx=SimpleNamespace(hub=hub), prefs=SimpleNamespace(exercise="squat")))
    assert loop.analyzer.refiner is None
    hub.pose = pose = LatePose()
    frame = av.VideoFrame.from_ndarray(np.zeros((480, 640, 3), np.uint8), format="bgr24")
    for seq in range(3):
        stamped = Stamped(frame, arrived=seq / 30, seq=seq)
        result = loop._track_and_coach(loop._detect(stamped), stamped)
    assert loop.analyzer.tracker.start_score == 0.6
    assert result.subject is not None and pose.refiner.calls == 3
