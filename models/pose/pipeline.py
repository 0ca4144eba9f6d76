"""The pose family's entry point, keeping the seed's call: `PosePipeline(use_fallback=False).infer_2d(image)`."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from models.paths import weights_dir
from models.pose.base import Person, PersonRefiner, PoseEstimator, PoseModelUnavailable
from models.pose.blazepose import BlazePoseRefiner
from models.pose.options import PoseOptions
from models.pose.prepare import INT8_SUFFIX, blazepose_path, extract_onnx, pose_dir, rtmpose_path
from models.pose.rtmpose import RtmPose
from models.pose.session import int8_kernels_exact
from models.pose.yolo import YoloPose

log = logging.getLogger(__name__)


def yolo_model_path(options: PoseOptions, weights: Path) -> Path:
    """An explicit .onnx path, or NAME.onnx (NAME-int8.onnx for INT8) under <weights>/pose/.

    INT8 only where the CPU's int8 kernels are exact: elsewhere the fused int8 graph moves boxes
    (50 px on a bus photo) and the unfused one is slower than float32 (53 vs 40 ms at 320 px)."""
    if options.model.endswith(".onnx"):
        return Path(options.model).expanduser()
    int8 = options.int8 and int8_kernels_exact()
    return pose_dir(weights) / f"{options.model}{INT8_SUFFIX if int8 else ''}.onnx"


class PosePipeline:
    """2D pose for every person in a frame, from the backend the options (or `use_fallback`) pick.

    Raises PoseModelUnavailable when the chosen backend's weights are not on this machine; it
    never downloads: setup (`prepare_embedded` / `prepare_full`) does that. `refiner` reads a
    chosen person's joints again (`options.refine`; the per-frame analysis calls it for the person it
    coaches); one that cannot load is None, YOLO's own keypoints stay, and `refine_error` says why.
    """

    def __init__(
        self, use_fallback: bool = False, options: PoseOptions | None = None, weights: Path | None = None
    ) -> None:
        self.options = options or PoseOptions()
        root = weights or weights_dir()
        self.backend = "rtmpose" if use_fallback else self.options.backend
        yolo_path = yolo_model_path(self.options, root)
        self.estimator: PoseEstimator
        self.refiner: PersonRefiner | None = None
        self.refine_error: str | None = None
        if self.backend == "yolo":
            if not yolo_path.exists():
                raise PoseModelUnavailable(
                    f"YOLO pose graph {yolo_path} is missing: run the setup step (models.pose.prepare_embedded, "
                    "or prepare_full for yolov8s-pose)"
                )
            self.estimator = YoloPose(yolo_path, self.options)
            self.source = str(yolo_path)
            if self.options.refine == "blazepose":
                try:
                    self.refiner = BlazePoseRefiner(blazepose_path(root), self.options)
                    self.source += f" + {blazepose_path(root)}"
                except PoseModelUnavailable as error:
                    self.refine_error = str(error)
                    log.warning("pose refinement off, YOLO's keypoints only: %s", error)
        else:
            rtm_path = _prepared_rtmpose(self.options.rtmpose_model, root)
            detector = YoloPose(yolo_path, self.options) if yolo_path.exists() else None
            self.estimator = RtmPose(rtm_path, self.options, detector)
            self.source = str(rtm_path)

    def infer_2d(self, image: np.ndarray) -> list[Person]:
        """Every person in `image` (gray, BGR or BGRA, any size), keypoints in its pixels; [] if none."""
        return self.estimator.infer_2d(image)


def _prepared_rtmpose(source: str, weights: Path) -> Path:
    path = rtmpose_path(source, weights)
    local_zip = Path(source).expanduser()
    if not path.exists() and local_zip.suffix == ".zip" and local_zip.exists():
        extract_onnx(local_zip, path)
    if not path.exists():
        raise PoseModelUnavailable(
            f"RTMPose weights unavailable: {source} has not been prepared into {path} "
            "(prepare_full downloads it from OpenMMLab, which needs the internet)"
        )
    return path
