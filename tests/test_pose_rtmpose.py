"""RTMPose fallback: real SimCC decoding, affine crop and back-projection, on tiny ONNX graphs
built here with the names and shapes of OpenMMLab's exports (input (1,3,256,192); simcc_x
(1,K,384), simcc_y (1,K,512) at split ratio 2), whose outputs peak where the test knows."""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from models.pose import Person, PoseModelUnavailable, PoseOptions, PosePipeline
from models.pose.rtmpose import RtmPose, decode_simcc

H, W, K = 256, 192, 133


def _save(graph: onnx.GraphProto, path: Path) -> Path:
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, path)
    return path


def _io(points: int = K) -> tuple[list[onnx.ValueInfoProto], list[onnx.ValueInfoProto]]:
    inputs = [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, H, W])]
    outputs = [
        helper.make_tensor_value_info("simcc_x", TensorProto.FLOAT, [1, points, 2 * W]),
        helper.make_tensor_value_info("simcc_y", TensorProto.FLOAT, [1, points, 2 * H]),
    ]
    return inputs, outputs


def bright_spot_model(path: Path, points: int = K) -> Path:
    """Every keypoint is the brightest pixel of the crop: simcc_x is the column maxima, simcc_y the
    row maxima, each bin repeated twice (split ratio 2). `points`: 133 as RTMW, 17 as a body model."""

    def axis(name: str, reduce_axis: int, length: int) -> list[onnx.NodeProto]:
        return [
            helper.make_node("ReduceMax", ["gray"], [f"{name}_max"], axes=[reduce_axis], keepdims=0),
            helper.make_node("Unsqueeze", [f"{name}_max", "last"], [f"{name}_4d"]),
            helper.make_node("Expand", [f"{name}_4d", f"{name}_shape4"], [f"{name}_rep"]),
            helper.make_node("Reshape", [f"{name}_rep", f"{name}_shape3"], [name]),
        ]

    constants = [
        helper.make_tensor("last", TensorProto.INT64, [1], [3]),
        helper.make_tensor("simcc_x_shape4", TensorProto.INT64, [4], [1, points, W, 2]),
        helper.make_tensor("simcc_x_shape3", TensorProto.INT64, [3], [1, points, 2 * W]),
        helper.make_tensor("simcc_y_shape4", TensorProto.INT64, [4], [1, points, H, 2]),
        helper.make_tensor("simcc_y_shape3", TensorProto.INT64, [3], [1, points, 2 * H]),
    ]
    nodes = [
        helper.make_node("ReduceMax", ["input"], ["gray"], axes=[1], keepdims=1),  # (1,1,H,W)
        *axis("simcc_x", 2, W),
        *axis("simcc_y", 3, H),
    ]
    inputs, outputs = _io(points)
    return _save(helper.make_graph(nodes, "bright_spot", inputs, outputs, constants), path)


# Keypoint k of the first 17 peaks at crop pixel (20 + 8k, 30 + 12k); the 116 whole-body points
# after them peak elsewhere, and higher, so taking any of them instead shows up.
BODY_X = 20 + 8 * np.arange(17)
BODY_Y = 30 + 12 * np.arange(17)


def fixed_peaks_model(path: Path) -> Path:
    simcc_x = np.zeros((1, K, 2 * W), dtype=np.float32)
    simcc_y = np.zeros((1, K, 2 * H), dtype=np.float32)
    simcc_x[0, np.arange(17), 2 * BODY_X] = 0.8
    simcc_y[0, np.arange(17), 2 * BODY_Y] = 0.6
    simcc_x[0, 17:, 5] = 0.99
    simcc_y[0, 17:, 7] = 0.99
    nodes = [
        helper.make_node("ReduceMean", ["input"], ["mean"], keepdims=0),  # ties the outputs to the input
        helper.make_node("Mul", ["mean", "zero"], ["nothing"]),
        helper.make_node("Add", ["peaks_x", "nothing"], ["simcc_x"]),
        helper.make_node("Add", ["peaks_y", "nothing"], ["simcc_y"]),
    ]
    constants = [
        helper.make_tensor("zero", TensorProto.FLOAT, [], [0.0]),
        helper.make_tensor("peaks_x", TensorProto.FLOAT, simcc_x.shape, simcc_x.ravel()),
        helper.make_tensor("peaks_y", TensorProto.FLOAT, simcc_y.shape, simcc_y.ravel()),
    ]
    inputs, outputs = _io()
    return _save(helper.make_graph(nodes, "fixed_peaks", inputs, outputs, constants), path)


@dataclass
class BoxesDetector:
    """A detector double: the person boxes the test chose."""

    boxes: list[list[float]]

    def infer_2d(self, image: np.ndarray) -> list[Person]:
        return [
            Person(keypoints=np.zeros((17, 3), np.float32), box=np.array(b, np.float32), score=0.9)
            for b in self.boxes
        ]


def frame_with_spots(height: int, width: int, spots: list[tuple[int, int]], radius: int) -> np.ndarray:
    frame = np.zeros((height, width, 3), dtype=np.uint8)
    for x, y in spots:
        frame[y - radius : y + radius + 1, x - radius : x + radius + 1] = 255
    return frame


def test_decode_simcc_takes_argmax_over_split_ratio_and_weaker_axis_as_confidence() -> None:
    simcc_x = np.zeros((2, 10))
    simcc_y = np.zeros((2, 12))
    simcc_x[0, 7], simcc_y[0, 4] = 0.9, 0.5
    simcc_x[1, 2], simcc_y[1, 11] = 1.7, 1.2  # scores above 1 are clipped
    out = decode_simcc(simcc_x, simcc_y, split_ratio=2.0)
    np.testing.assert_allclose(out, [[3.5, 2.0, 0.5], [1.0, 5.5, 1.0]])


def test_detected_people_get_the_bright_spot_inside_their_own_box(tmp_path: Path) -> None:
    model = bright_spot_model(tmp_path / "spot.onnx")
    spots = [(120, 330), (401, 161)]
    frame = frame_with_spots(480, 640, spots, radius=1)
    detector = BoxesDetector([[60, 200, 200, 460], [350, 40, 470, 300]])
    people = RtmPose(model, PoseOptions(threads=1), detector).infer_2d(frame)
    assert len(people) == 2
    for found, spot, box in zip(people, spots, detector.boxes, strict=True):
        assert found.keypoints.shape == (17, 3)
        np.testing.assert_allclose(found.box, box)
        np.testing.assert_allclose(found.keypoints[:, :2], np.tile(spot, (17, 1)), atol=1.5)
        assert (found.keypoints[:, 2] == 1.0).all()


def test_whole_frame_is_the_box_without_a_detector(tmp_path: Path) -> None:
    model = bright_spot_model(tmp_path / "spot.onnx")
    frame = frame_with_spots(240, 320, [(250, 60)], radius=3)
    people = RtmPose(model, PoseOptions(threads=1), detector=None).infer_2d(frame)
    assert len(people) == 1
    np.testing.assert_allclose(people[0].box, [0, 0, 320, 240])
    np.testing.assert_allclose(people[0].keypoints[:, :2], np.tile([250, 60], (17, 1)), atol=3.0)
    # A black frame: every SimCC maximum is negative after normalisation, confidence 0: nobody.
    assert RtmPose(model, PoseOptions(threads=1), detector=None).infer_2d(np.zeros((240, 320, 3), np.uint8)) == []


def test_whole_body_output_maps_its_first_17_points_back_through_the_crop(tmp_path: Path) -> None:
    model = fixed_peaks_model(tmp_path / "peaks.onnx")
    box = [100.0, 50.0, 300.0, 450.0]  # 200 x 400, centre (200, 250)
    people = RtmPose(model, PoseOptions(threads=1), BoxesDetector([box])).infer_2d(
        np.zeros((500, 400, 3), np.uint8)
    )
    assert len(people) == 1
    # Padded 1.25x to 250 x 500, narrower than the 192:256 input, so widened to 375 x 500.
    scale = W / 375.0
    expected_x = (BODY_X - W / 2) / scale + 200.0
    expected_y = (BODY_Y - H / 2) / scale + 250.0
    keypoints = people[0].keypoints
    np.testing.assert_allclose(keypoints[:, 0], np.clip(expected_x, 0, 400), atol=1e-3)
    np.testing.assert_allclose(keypoints[:, 1], np.clip(expected_y, 0, 500), atol=1e-3)
    np.testing.assert_allclose(keypoints[:, 2], 0.6, atol=1e-6)
    # All 133 points come back too, through the same crop: the feet, face and hands peak at crop (5, 7)/2.
    whole = people[0].whole_body
    assert whole is not None and whole.shape == (K, 3)
    np.testing.assert_allclose(whole[:17], keypoints)
    for part, count in (("feet", 6), ("face", 68), ("left_hand", 21), ("right_hand", 21)):
        points = people[0].part(part)
        assert points is not None and points.shape == (count, 3)
        np.testing.assert_allclose(points[:, 0], (2.5 - W / 2) / scale + 200.0, atol=1e-3)
        np.testing.assert_allclose(points[:, 1], (3.5 - H / 2) / scale + 250.0, atol=1e-3)
        np.testing.assert_allclose(points[:, 2], 0.99, atol=1e-6)


def test_a_body_only_model_has_no_whole_body(tmp_path: Path) -> None:
    model = bright_spot_model(tmp_path / "body.onnx", points=17)
    people = RtmPose(model, PoseOptions(threads=1), detector=None).infer_2d(
        frame_with_spots(240, 320, [(250, 60)], radius=3))
    assert people[0].keypoints.shape == (17, 3)
    assert people[0].whole_body is None and people[0].part("left_hand") is None


def test_pipeline_loads_a_local_zip_like_openmmlab_ships(tmp_path: Path) -> None:
    model = bright_spot_model(tmp_path / "end2end.onnx")
    archive = tmp_path / "rtmw-tiny.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.write(model, "rtmw-tiny/end2end.onnx")
    weights = tmp_path / "weights"
    options = PoseOptions(threads=1, rtmpose_model=str(archive))
    pipeline = PosePipeline(use_fallback=True, options=options, weights=weights)
    assert pipeline.backend == "rtmpose"
    assert (weights / "pose" / "rtmw-tiny.onnx").exists()
    people = pipeline.infer_2d(frame_with_spots(240, 320, [(100, 120)], radius=3))
    np.testing.assert_allclose(people[0].keypoints[:, :2], np.tile([100, 120], (17, 1)), atol=3.0)


def test_unprepared_hub_model_is_a_clear_unavailable_error(tmp_path: Path) -> None:
    with pytest.raises(PoseModelUnavailable, match="RTMPose weights unavailable"):
        PosePipeline(use_fallback=True, weights=tmp_path)
