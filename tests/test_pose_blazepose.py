"""BlazePose refining YOLO's people: the turned region, the way back to frame pixels, the real
model on a real push-up's bottom, where YOLO folds the elbow onto the shoulder, and the per-frame
analysis refining the person it tracks."""

from __future__ import annotations

import math
import threading
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from coaching.geometry import angle_at
from models.pose import Person, PoseModelUnavailable, PoseOptions, PosePipeline
from models.pose.blazepose import COCO_FROM_BLAZEPOSE, INPUT_SIZE, BlazePoseRefiner, decode, region, region_matrix
from models.pose.prepare import blazepose_path
from realtime.media.video_frames import upright_bgr
from training.real_data import real_data_root

L_SHOULDER, R_SHOULDER, L_ELBOW, R_ELBOW, L_WRIST, R_WRIST, L_HIP, R_HIP = 5, 6, 7, 8, 9, 10, 11, 12


def lying_person(head_left: bool = True) -> np.ndarray:
    """COCO keypoints of a body lying along the x axis (a plank), head on the left or the right."""
    k = np.zeros((17, 3), np.float32)
    direction = -1.0 if head_left else 1.0
    for joint, along in ((0, 2.6), (L_SHOULDER, 2.0), (R_SHOULDER, 2.0), (L_HIP, 0.0), (R_HIP, 0.0),
                         (13, -1.8), (14, -1.8), (15, -3.6), (16, -3.6)):
        k[joint] = (400 + direction * along * 50, 300, 0.9)
    k[L_ELBOW] = k[L_WRIST] = k[R_ELBOW] = k[R_WRIST] = (400 + direction * 100, 340, 0.9)
    return k


@pytest.mark.parametrize("head_left", [True, False])
def test_a_lying_body_is_turned_upright_shoulders_above_hips(head_left: bool) -> None:
    k = lying_person(head_left)
    box = np.array([200, 250, 600, 360], np.float32)
    centre, side, rotation = region(k, box, margin=1.25)
    assert abs(abs(math.degrees(rotation)) - 90) < 1
    m = region_matrix(centre, side, rotation)
    crop = k[:, :2] @ m[:, :2].T + m[:, 2]
    assert crop[L_SHOULDER, 1] < crop[L_HIP, 1] - 50  # shoulders well above the hips
    assert abs(crop[L_SHOULDER, 0] - crop[L_HIP, 0]) < 2  # on one vertical line
    assert abs(crop[L_HIP, 0] - INPUT_SIZE / 2) < 1e-3 and abs(crop[L_HIP, 1] - INPUT_SIZE / 2) < 1e-3
    body = crop[k[:, 2] > 0]
    assert ((body >= 0) & (body <= INPUT_SIZE)).all()  # the whole body inside the crop


def test_without_hips_and_shoulders_the_region_is_the_box_unturned() -> None:
    k = np.zeros((17, 3), np.float32)
    centre, side, rotation = region(k, np.array([100, 100, 200, 300], np.float32), margin=1.25)
    assert rotation == 0.0 and side == pytest.approx(250) and tuple(centre) == (150, 200)


def test_landmarks_go_back_to_frame_pixels_with_visibility_times_presence() -> None:
    centre, side, rotation = np.array([500.0, 300.0], np.float32), 400.0, math.radians(90)
    m = region_matrix(centre, side, rotation)
    raw = np.zeros((39, 5), np.float32)
    raw[:, :2] = INPUT_SIZE / 2  # every landmark at the crop's centre ...
    raw[11] = (INPUT_SIZE / 2, INPUT_SIZE / 2 - 64, 0, 10, 10)  # ... but the left shoulder above it
    raw[13, 3] = -10  # the left elbow hidden
    points = decode(raw.reshape(-1), m)
    assert points.shape == (17, 3)
    assert np.allclose(points[0, :2], centre, atol=1e-3)
    # 64 crop pixels above the centre are 100 frame pixels along the turned axis.
    assert np.linalg.norm(points[L_SHOULDER, :2] - centre) == pytest.approx(100, abs=1e-2)
    assert points[L_SHOULDER, 2] > 0.99 and points[L_ELBOW, 2] < 0.01
    assert points[0, 2] == pytest.approx(0.25)  # sigmoid(0) * sigmoid(0)
    assert list(COCO_FROM_BLAZEPOSE[[5, 6, 11, 12]]) == [11, 12, 23, 24]


def test_a_missing_model_leaves_yolos_keypoints_and_says_why(tmp_path: Path, pose_weights: Path) -> None:
    (tmp_path / "pose").mkdir()
    for graph in (pose_weights / "pose").glob("yolo11n-pose*.onnx"):
        (tmp_path / "pose" / graph.name).symlink_to(graph)
    pipeline = PosePipeline(options=PoseOptions(threads=1), weights=tmp_path)
    assert pipeline.refiner is None
    assert pipeline.refine_error is not None and "pose_landmark_full.tflite" in pipeline.refine_error
    assert pipeline.infer_2d(np.zeros((240, 320, 3), np.uint8)) == []


def push_up_bottom() -> np.ndarray:
    """A real side-view push-up at its bottom (WorkoutTracker `push-up_6`, frame 54: the elbows at
    about 55-60 degrees, the near arm the person's left)."""
    root = real_data_root()
    if root is None:
        pytest.skip("the real development set (../shared/data/real) is not on this machine")
    with av.open(str(root / "videos/workouttracker/push_up/push-up_6.mp4")) as container:
        for index, frame in enumerate(container.decode(video=0)):
            if index == 54:
                return upright_bgr(frame)
    raise AssertionError("the clip is shorter than expected")


@pytest.fixture(scope="module")
def pipeline(pose_weights: Path) -> PosePipeline:
    return PosePipeline(options=PoseOptions(threads=2), weights=pose_weights)


def refined(pipeline: PosePipeline, image: np.ndarray) -> Person:
    """The most confident person in `image`, read again by the pipeline's refiner."""
    assert isinstance(pipeline.refiner, BlazePoseRefiner), pipeline.refine_error
    return pipeline.refiner.refine_person(image, max(pipeline.infer_2d(image), key=lambda p: p.score))


def near_elbow(person: Person) -> tuple[float, float]:
    """The left (near) elbow's angle and the right (far) arm's least joint confidence."""
    k = person.keypoints
    return angle_at(k[L_SHOULDER, :2], k[L_ELBOW, :2], k[L_WRIST, :2]), float(k[[R_SHOULDER, R_ELBOW, R_WRIST], 2].min())


def test_the_real_model_reads_a_push_ups_bottom_elbow_and_hides_the_far_arm(pipeline: PosePipeline,
                                                                            pose_weights: Path) -> None:
    assert blazepose_path(pose_weights).is_file()
    image = push_up_bottom()
    angle, far_confidence = near_elbow(refined(pipeline, image))
    assert angle < 75, f"near elbow read at {angle:.0f} degrees"
    assert far_confidence < 0.3  # the far arm is behind the body: not guessed
    # Turned by 180 degrees (a phone upside down) the same body is still read.
    assert near_elbow(refined(pipeline, cv2.rotate(image, cv2.ROTATE_180)))[0] < 80


def test_threads_refining_side_by_side_agree(pipeline: PosePipeline) -> None:
    image = push_up_bottom()
    alone = refined(pipeline, image)
    results: list[Person] = []
    threads = [threading.Thread(target=lambda: results.append(refined(pipeline, image))) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 3
    for person in results:  # on one thread or two, as the others run beside
        assert np.allclose(person.keypoints, alone.keypoints, atol=0.5)


def test_refined_keypoints_are_in_original_pixels(pipeline: PosePipeline) -> None:
    """The push-up pasted into a larger frame at an offset: its refined joints move by the offset."""
    image = push_up_bottom()
    dx, dy = 150, 220
    canvas = np.zeros((image.shape[0] + dy, image.shape[1] + dx, 3), np.uint8)
    canvas[dy:, dx:] = image
    plain, moved = refined(pipeline, image), refined(pipeline, canvas)
    both = (plain.keypoints[:, 2] > 0.5) & (moved.keypoints[:, 2] > 0.5)
    assert both.sum() >= 6
    offset = np.median(moved.keypoints[both, :2] - plain.keypoints[both, :2], axis=0)
    np.testing.assert_allclose(offset, [dx, dy], atol=0.01 * image.shape[1])


@pytest.mark.parametrize("shape", [(12, 16, 3), (1, 1, 3), (480, 7, 3), (240, 320)])
def test_odd_frames_and_a_person_half_outside_them_give_finite_keypoints(pipeline: PosePipeline,
                                                                        shape: tuple[int, ...]) -> None:
    """The refiner on a frame of any size, for a person whose box runs past its edges."""
    assert isinstance(pipeline.refiner, BlazePoseRefiner)
    image = np.random.default_rng(0).integers(0, 255, shape, dtype=np.uint8)
    if image.ndim == 2:
        image = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    h, w = image.shape[:2]
    person = Person(keypoints=lying_person(), box=np.array([-w, -h, 2 * w, 2 * h], np.float32), score=0.9)
    read = pipeline.refiner.refine_person(image, person)
    assert read.keypoints.shape == (17, 3) and np.isfinite(read.keypoints).all()
    assert ((read.keypoints[:, 2] >= 0) & (read.keypoints[:, 2] <= 1)).all()


def test_setup_without_the_wheel_or_with_another_model_in_it_says_so(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    import zipfile

    from models.pose import prepare as pose_prepare

    def unreachable(spec: str, directory: Path, *args: str) -> Path:
        raise RuntimeError(f"pip could not download {spec}: no network")

    monkeypatch.setattr(pose_prepare, "download_wheel", unreachable)
    with pytest.raises(PoseModelUnavailable, match="mediapipe==0.10.21"):
        pose_prepare.prepare_blazepose(tmp_path)

    def another_model(spec: str, directory: Path, *args: str) -> Path:
        wheel = directory / "mediapipe-0.10.21-cp311-cp311-manylinux_2_28_x86_64.whl"
        with zipfile.ZipFile(wheel, "w") as zf:
            zf.writestr(pose_prepare.BLAZEPOSE_MEMBER, b"not BlazePose")
            zf.writestr(pose_prepare.BLAZEPOSE_LICENSE_MEMBER, b"Apache License")
        return wheel

    monkeypatch.setattr(pose_prepare, "download_wheel", another_model)
    with pytest.raises(PoseModelUnavailable, match="not the model"):
        pose_prepare.prepare_blazepose(tmp_path)
    assert not blazepose_path(tmp_path).exists()


def test_the_analysis_refines_the_person_it_tracks_and_no_one_else() -> None:
    """Fast tier: a scripted pose model with two people and a refiner that records whom it reads."""
    from realtime.analysis import FrameAnalyzer

    def person(x: float, size: float) -> Person:
        k = lying_person()
        k[:, 0] = x + (k[:, 0] - 400) * size
        return Person(keypoints=k, box=np.array([x - 200 * size, 250, x + 200 * size, 360], np.float32), score=0.9)

    coached, bystander = person(320, 1.0), person(560, 0.4)  # central and larger: the one tracked

    class TwoPeople:
        def infer_2d(self, image: np.ndarray) -> list[Person]:
            return [bystander, coached]

    class Recording:
        def __init__(self) -> None:
            self.seen: list[Person] = []

        def refine_person(self, image: np.ndarray, who: Person) -> Person:
            self.seen.append(who)
            k = who.keypoints.copy()
            k[:, 1] += 5.0  # the refined reading, told apart from the detector's
            return Person(keypoints=k, box=who.box, score=who.score)

    refiner = Recording()
    analyzer = FrameAnalyzer(TwoPeople(), "squat", refiner=refiner)
    frame = np.zeros((480, 640, 3), np.uint8)
    for i in range(5):
        result = analyzer.process_image(frame, i / 30)
    assert [who is coached for who in refiner.seen] == [True] * 5
    assert result.keypoints is not None
    assert np.nanmean(result.keypoints[:, 1] - coached.keypoints[:, 1]) == pytest.approx(5.0, abs=0.5)
    assert "refine" in result.stages


def test_the_tracker_starts_from_the_pose_familys_own_threshold() -> None:
    """A session can start before pose has loaded; the pose family set later brings its options'
    score_threshold to the tracker, and only people at it count as in view."""
    from realtime.analysis import FrameAnalyzer

    class Sure:
        options = PoseOptions(score_threshold=0.6)

        def infer_2d(self, image: np.ndarray) -> list[Person]:
            k = np.zeros((17, 3), np.float32)
            return [Person(keypoints=k, box=np.array([0, 0, 10, 10], np.float32), score=0.5)]

    analyzer = FrameAnalyzer(None, "squat")
    assert analyzer.tracker.start_score == PoseOptions().score_threshold
    analyzer.pose = Sure()
    assert analyzer.tracker.start_score == 0.6
    result = analyzer.process_image(np.zeros((48, 64, 3), np.uint8), 0.0)
    assert result.people == 0 and result.subject is None
