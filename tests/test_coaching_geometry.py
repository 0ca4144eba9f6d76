"""Geometry, measures and view detection on hand-made and generated keypoints."""

from __future__ import annotations

import math

import numpy as np
import pytest

from coaching.geometry import Pose, angle_at, inclination, offset_from_line, signed_tilt
from coaching.measures import MEASURES, facing, measure_all
from coaching.skeleton import EDGES, FLIP_INDEX, JOINT_NAMES, NUM_JOINTS, Joint, joint
from coaching.view import ViewEstimator, classify_view, hidden_parts, width_ratio
from tests.coaching_sequences import generate, still


def test_skeleton_layout() -> None:
    assert NUM_JOINTS == 17 and JOINT_NAMES[0] == "nose" and JOINT_NAMES[16] == "right_ankle"
    assert joint("knee", "left") == Joint.LEFT_KNEE == 13
    assert all(0 <= a < 17 and 0 <= b < 17 and a != b for a, b in EDGES)
    assert sorted(FLIP_INDEX) == list(range(17))
    assert all(JOINT_NAMES[FLIP_INDEX[i]].replace("left", "X").replace("right", "X")
               == JOINT_NAMES[i].replace("left", "X").replace("right", "X") for i in range(17))


def test_angles_and_inclinations() -> None:
    a, b, c = np.array([0.0, -1.0]), np.array([0.0, 0.0]), np.array([1.0, 0.0])
    assert angle_at(a, b, c) == pytest.approx(90.0)
    assert angle_at(a, b, a) == pytest.approx(0.0)
    assert angle_at(a, b, None) is None
    assert angle_at(b, b, c) is None  # zero-length segment
    assert inclination(b, np.array([0.0, -5.0])) == pytest.approx(0.0)  # straight up (y down)
    assert inclination(b, np.array([3.0, 0.0])) == pytest.approx(90.0)
    assert signed_tilt(b, np.array([-1.0, -1.0]), toward=1.0) == pytest.approx(-45.0)
    # hip below the shoulder-ankle line (towards +y) is positive sag
    assert offset_from_line(np.array([5.0, 1.0]), np.array([0.0, 0.0]), np.array([10.0, 0.0])) == pytest.approx(0.1)


def test_pose_masks_low_confidence_nan_and_out_of_frame() -> None:
    kp = np.zeros((17, 3))
    kp[:, 0], kp[:, 1], kp[:, 2] = 100.0, 100.0, 0.9
    kp[Joint.NOSE, 2] = 0.1
    kp[Joint.LEFT_EYE] = [np.nan, np.nan, 0.9]
    kp[Joint.RIGHT_EYE] = [5000.0, 100.0, 0.9]
    kp[Joint.LEFT_EAR] = [np.inf, 10.0, 0.9]
    kp[Joint.RIGHT_EAR, 2] = np.nan
    pose = Pose(kp, 640, 480)
    assert pose.point(Joint.LEFT_SHOULDER) is not None
    for j in (Joint.NOSE, Joint.LEFT_EYE, Joint.RIGHT_EYE, Joint.LEFT_EAR, Joint.RIGHT_EAR):
        assert not pose.visible(j)
    with pytest.raises(ValueError):
        Pose(np.zeros((16, 3)), 640, 480)


def test_every_measure_is_none_or_finite_on_garbage() -> None:
    rng = np.random.default_rng(1)
    for _ in range(200):
        kp = np.column_stack([rng.uniform(-500, 1200, 17), rng.uniform(-500, 1000, 17), rng.uniform(-0.5, 1.5, 17)])
        kp[rng.random(17) < 0.3] = np.nan
        values = measure_all(Pose(kp, 640, 480), MEASURES.keys())
        assert all(v is None or (isinstance(v, float) and math.isfinite(v)) for v in values.values())
    empty = measure_all(Pose(np.full((17, 3), np.nan), 640, 480), MEASURES.keys())
    assert all(v is None for v in empty.values())


def test_knee_angle_standing_and_squatting_side_view() -> None:
    seq = generate("squat", reps=1, view="side", noise_px=0, drop_prob=0, tempo_jitter=0)
    angles = [MEASURES["knee_angle"](Pose(f, seq.width, seq.height)) for f in seq.frames]
    assert angles[0] == pytest.approx(180.0, abs=1.0)
    assert min(angles) < 60.0


def test_the_working_arm_is_read_when_one_arm_curls_and_both_sides_when_they_agree() -> None:
    """Head-on, one arm at the top of a curl and the other hanging: the curl's elbow measure is
    the curling arm's, not the two averaged; with both arms curling it is their mean."""
    one = generate("bicep_curl", reps=1, view="front", faults={"alternate": 1}, noise_px=0, drop_prob=0,
                   tempo_jitter=0)
    both = generate("bicep_curl", reps=1, view="front", noise_px=0, drop_prob=0, tempo_jitter=0)
    top = int(np.argmax(one.progress))
    pose_one, pose_both = Pose(one.frames[top], 640, 480), Pose(both.frames[top], 640, 480)
    working = MEASURES["raised_forearm"](pose_one)
    assert working is not None and working > 0.0  # the curled hand is above its elbow
    assert MEASURES["forearm_raise"](pose_one) < working - 0.4  # averaged with the hanging arm
    assert MEASURES["raised_forearm"](pose_both) == pytest.approx(MEASURES["forearm_raise"](pose_both))


def test_facing_from_the_nose() -> None:
    right = generate("standing", reps=0, view="side", noise_px=0, drop_prob=0, lead_in_s=0.1)
    left = generate("standing", reps=0, view="side_left", noise_px=0, drop_prob=0, lead_in_s=0.1)
    assert facing(Pose(right.frames[0], 640, 480)) == 1.0
    assert facing(Pose(left.frames[0], 640, 480)) == -1.0


@pytest.mark.parametrize(("view", "yaw", "expected"), [
    ("front", None, "front"), ("side", None, "side"), ("side_left", None, "side"), ("front", 60.0, "unknown"),
])
def test_view_classification_standing(view: str, yaw: float | None, expected: str) -> None:
    seq = generate("standing", reps=0, view=view, yaw=yaw, lead_in_s=1.0, tail_s=0.0, seed=2)
    est = ViewEstimator()
    for kp, t in seq:
        got = est.update(Pose(kp, seq.width, seq.height), t)
    assert got == expected


@pytest.mark.parametrize(("exercise", "view"), [("push_up", "side"), ("push_up", "front"), ("plank", "side")])
def test_view_classification_lying(exercise: str, view: str) -> None:
    seq = generate(exercise, reps=1, view=view, seed=3)
    est = ViewEstimator()
    views = {est.update(Pose(kp, seq.width, seq.height), t) for kp, t in seq}
    assert views == {view}


def test_view_hysteresis_and_hidden_parts() -> None:
    assert classify_view(0.32, previous="side") == "side"
    assert classify_view(0.32, previous="unknown") == "unknown"
    assert classify_view(None) == "unknown"
    seq = still(0.2, "front", noise_px=0, drop_prob=0)
    kp = seq.frames[0].copy()
    kp[[Joint.LEFT_ANKLE, Joint.RIGHT_ANKLE], 1] = 2000.0  # below the frame
    pose = Pose(kp, seq.width, seq.height)
    assert hidden_parts(pose, ("hips", "knees", "feet")) == ["feet"]
    assert width_ratio(pose) == pytest.approx(0.73, abs=0.05)
