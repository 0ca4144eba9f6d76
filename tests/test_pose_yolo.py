"""The embedded YOLO11n-pose through onnxruntime, on real images and video from registry packages.

YOLO's own keypoints (the BlazePose refinement off; tests/test_pose_blazepose.py covers it)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from models.paths import weights_dir
from models.pose import Person, PoseEstimator, PoseModelUnavailable, PoseOptions, PosePipeline
from models.pose import pipeline as pipeline_module
from models.pose.pipeline import yolo_model_path
from models.pose.prepare import pose_dir
from tests.media import sports2d_demo_video, ultralytics_asset

pytestmark = pytest.mark.offline  # scripts/test.sh runs it beside another offline test

L_SHOULDER, R_SHOULDER, L_HIP, R_HIP, L_ANKLE, R_ANKLE, NOSE = 5, 6, 11, 12, 15, 16, 0


@pytest.fixture(scope="module")
def pipeline(pose_weights: Path) -> PosePipeline:
    return PosePipeline(options=PoseOptions(threads=2, refine=None), weights=pose_weights)


def confident_inside_box(person: Person, margin: float = 0.1) -> float:
    """Share of confident keypoints within the person's box grown by `margin` of its size."""
    x1, y1, x2, y2 = person.box
    mx, my = (x2 - x1) * margin, (y2 - y1) * margin
    keypoints = person.keypoints[person.keypoints[:, 2] > 0.5]
    inside = (
        (keypoints[:, 0] >= x1 - mx) & (keypoints[:, 0] <= x2 + mx)
        & (keypoints[:, 1] >= y1 - my) & (keypoints[:, 1] <= y2 + my)
    )
    return float(inside.mean()) if len(keypoints) else 0.0


def test_pipeline_is_a_pose_estimator(pipeline: PosePipeline) -> None:
    assert isinstance(pipeline, PoseEstimator)
    assert pipeline.backend == "yolo"


def test_bus_has_four_people_with_plausible_skeletons(pipeline: PosePipeline) -> None:
    image = cv2.imread(str(ultralytics_asset("bus.jpg")))
    people = pipeline.infer_2d(image)
    # Unsure detections (continue_score_threshold up to score_threshold) only carry a tracked person
    # on; the fp32 graph of CPUs without VNNI also finds the sliver of a fifth at the left edge (0.13).
    sure = [p for p in people if p.score >= pipeline.options.score_threshold]
    assert len(sure) == 4
    assert [p.score for p in people] == sorted((p.score for p in people), reverse=True)
    height, width = image.shape[:2]
    for person in people:
        assert person.keypoints.shape == (17, 3) and person.keypoints.dtype == np.float32
        assert person.box.shape == (4,)
        assert 0 <= person.box[0] < person.box[2] <= width and 0 <= person.box[1] < person.box[3] <= height
    standing = [p for p in people if p.score > 0.8]
    assert len(standing) == 3
    for person in standing:
        k = person.keypoints
        assert confident_inside_box(person) == 1.0
        # Upright people: head above shoulders above hips above ankles (image y grows downward).
        assert k[NOSE, 1] < k[[L_SHOULDER, R_SHOULDER], 1].mean() < k[[L_HIP, R_HIP], 1].mean()
        assert k[[L_HIP, R_HIP], 1].mean() < k[[L_ANKLE, R_ANKLE], 1].max()
        assert person.box[3] - person.box[1] > 2 * (person.box[2] - person.box[0])  # upright: tall boxes


def test_zidane_has_two_people(pipeline: PosePipeline) -> None:
    people = pipeline.infer_2d(cv2.imread(str(ultralytics_asset("zidane.jpg"))))
    assert len(people) == 2
    for person in people:
        assert person.score > 0.7
        assert confident_inside_box(person) >= 0.9
        assert (person.keypoints[:, 2] > 0.5).sum() >= 8


def test_keypoints_are_in_original_pixels(pipeline: PosePipeline) -> None:
    """The same people pasted at two places of two frames of the same scale: their boxes and
    keypoints move by exactly the paste offset."""
    people = cv2.imread(str(ultralytics_asset("zidane.jpg")))[:, 100:1180]  # 1080 x 720, both men

    def pasted(height: int, dx: int, dy: int) -> np.ndarray:
        canvas = np.zeros((height, 1280, 3), dtype=np.uint8)  # long side 1280: the same scale for both
        canvas[dy : dy + people.shape[0], dx : dx + people.shape[1]] = people
        return canvas

    dx, dy = 170, 260
    plain = sorted(pipeline.infer_2d(pasted(720, 0, 0)), key=lambda p: p.box[0])
    moved = sorted(pipeline.infer_2d(pasted(1000, dx, dy)), key=lambda p: p.box[0])
    assert len(plain) == len(moved) == 2
    for a, b in zip(plain, moved, strict=True):
        np.testing.assert_allclose(b.box, a.box + [dx, dy, dx, dy], atol=40)  # boxes shift with context
        both = (a.keypoints[:, 2] > 0.5) & (b.keypoints[:, 2] > 0.5)
        assert both.sum() >= 6
        offset = b.keypoints[both, :2] - a.keypoints[both, :2]
        np.testing.assert_allclose(np.median(offset, axis=0), [dx, dy], atol=8)


def test_a_person_in_most_frames_of_a_real_video(pipeline: PosePipeline) -> None:
    capture = cv2.VideoCapture(str(sports2d_demo_video()))
    assert capture.isOpened()
    sampled = with_person = 0
    index = 0
    while True:
        if index % 6:
            ok = capture.grab()
        else:
            ok, frame = capture.read()
            if ok:
                sampled += 1
                with_person += bool(pipeline.infer_2d(frame))
        if not ok:
            break
        index += 1
    capture.release()
    assert sampled >= 35  # 230 frames, every 6th
    assert with_person / sampled >= 0.9


@pytest.mark.parametrize(
    ("name", "frame"),
    [
        ("tiny 17x9 gray", np.full((9, 17), 128, np.uint8)),
        ("1x1 BGR", np.zeros((1, 1, 3), np.uint8)),
        ("4000x3000 black", np.zeros((3000, 4000, 3), np.uint8)),
        ("BGRA", np.zeros((480, 640, 4), np.uint8)),
        ("HxWx1 gray", np.zeros((240, 320, 1), np.uint8)),
        ("float noise", np.random.default_rng(0).random((97, 333, 3), dtype=np.float32)),
        ("uint16 tall", np.full((1000, 50, 3), 40000, np.uint16)),
        ("empty", np.zeros((0, 0, 3), np.uint8)),
    ],
)
def test_frames_of_any_size_and_format_without_people(pipeline: PosePipeline, name: str, frame: np.ndarray) -> None:
    assert pipeline.infer_2d(frame) == []


def test_gray_and_bgra_versions_of_a_real_picture(pipeline: PosePipeline) -> None:
    image = cv2.imread(str(ultralytics_asset("zidane.jpg")))
    assert len(pipeline.infer_2d(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY))) == 2
    assert len(pipeline.infer_2d(cv2.cvtColor(image, cv2.COLOR_BGR2BGRA))) == 2
    odd = cv2.resize(image, (641, 359))  # not a multiple of anything
    assert len(pipeline.infer_2d(odd)) == 2


def test_int8_graph_agrees_with_fp32(pipeline: PosePipeline) -> None:
    """Also on a CPU whose int8 kernels saturate: there the graph runs unfused (models.pose.session)."""
    int8 = PosePipeline(options=PoseOptions(model=str(pose_dir(weights_dir()) / "yolo11n-pose-int8.onnx"), threads=2,
                                            refine=None))
    fp32 = PosePipeline(options=PoseOptions(int8=False, threads=2, refine=None))
    assert int8.source.endswith("yolo11n-pose-int8.onnx") and fp32.source.endswith("yolo11n-pose.onnx")
    image = cv2.imread(str(ultralytics_asset("bus.jpg")))
    # The people both graphs are sure of; the unsure ones kept to continue a track differ more.
    quantized, reference = ([p for p in graph.infer_2d(image) if p.score >= graph.options.score_threshold]
                            for graph in (int8, fp32))
    assert len(quantized) == len(reference) == 4
    for ref in reference:
        match = min(quantized, key=lambda p: float(np.abs(p.box - ref.box).sum()))
        height = ref.box[3] - ref.box[1]
        np.testing.assert_allclose(match.box, ref.box, atol=0.05 * height)
        both = (ref.keypoints[:, 2] > 0.5) & (match.keypoints[:, 2] > 0.5)
        distance = np.linalg.norm(ref.keypoints[both, :2] - match.keypoints[both, :2], axis=1)
        assert distance.size == 0 or np.median(distance) < 0.03 * height


def test_int8_is_chosen_only_where_the_cpus_int8_kernels_are_exact(monkeypatch: pytest.MonkeyPatch) -> None:
    for exact, name in ((True, "yolo11n-pose-int8.onnx"), (False, "yolo11n-pose.onnx")):
        monkeypatch.setattr(pipeline_module, "int8_kernels_exact", lambda exact=exact: exact)
        assert yolo_model_path(PoseOptions(int8=True), weights_dir()).name == name


def test_smaller_input_size_still_finds_people() -> None:
    small = PosePipeline(options=PoseOptions(input_size=320, threads=2, refine=None))
    assert len(small.infer_2d(cv2.imread(str(ultralytics_asset("zidane.jpg"))))) == 2


def test_unsupported_shape_is_a_clear_error(pipeline: PosePipeline) -> None:
    with pytest.raises(ValueError, match="expected HxW"):
        pipeline.infer_2d(np.zeros((10, 10, 2), np.uint8))


def test_missing_weights_are_a_clear_unavailable_error(tmp_path) -> None:  # noqa: ANN001
    with pytest.raises(PoseModelUnavailable, match="yolov8s-pose"):
        PosePipeline(options=PoseOptions.for_profile("full"), weights=tmp_path)


def test_frames_run_side_by_side_find_the_same_people(pipeline: PosePipeline) -> None:
    """Two vision workers share one pose model: a frame run while another is under way goes through
    the one-thread session, and finds what the frame found alone."""
    from concurrent.futures import ThreadPoolExecutor

    image = cv2.imread(str(ultralytics_asset("bus.jpg")))
    alone = pipeline.infer_2d(image)
    with ThreadPoolExecutor(2) as pool:
        together = list(pool.map(lambda _: pipeline.infer_2d(image), range(8)))
    for people in together:
        assert len(people) == len(alone)
        for a, b in zip(alone, people):
            assert np.abs(a.keypoints[:, :2] - b.keypoints[:, :2]).max() < 2.0  # pixels


def test_unsure_people_are_returned_down_to_the_continue_threshold() -> None:
    """The bus picture's half-cut man on the left edge scores ~0.13 in the fp32 graph: returned for
    the tracker to continue someone with, and not at all once the continue threshold is the start
    threshold."""
    image = cv2.imread(str(ultralytics_asset("bus.jpg")))
    options = PoseOptions(int8=False, threads=2, refine=None)
    scores = [p.score for p in PosePipeline(options=options).infer_2d(image)]
    assert min(scores) >= options.continue_score_threshold
    assert sum(s >= options.score_threshold for s in scores) == 4 and len(scores) == 5
    strict = options.model_copy(update={"continue_score_threshold": options.score_threshold})
    assert len(PosePipeline(options=strict).infer_2d(image)) == 4
