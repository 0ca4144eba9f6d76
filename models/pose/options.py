"""Settings of the pose family, with the defaults the embedded profile runs on."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

# OpenMMLab's RTMW whole-body model (133 keypoints, 256x192 input) as an ONNX SDK zip; the
# fallback's canonical source. Only `prepare_full` fetches it: nothing downloads at run time.
RTMW_URL = (
    "https://download.openmmlab.com/mmpose/v1/projects/rtmw/onnx_sdk/"
    "rtmw-x_simcc-cocktail13_pt-ucoco_270e-256x192-fbef0d61_20230925.zip"
)


class PoseOptions(BaseModel):
    """How the pose family loads and runs.

    The defaults are the embedded profile: YOLO11n-pose in INT8 through onnxruntime on 2 CPU
    threads (one while another frame is being analysed: `threads_beside`), the frame letterboxed
    so its long side is 640 px (a 640x480 frame becomes a 640x480 tensor, not 640x640: the
    exported graph takes any multiple of 32). `for_profile("full")` gives the GPU one.
    """

    backend: Literal["yolo", "rtmpose"] = Field(
        "yolo", description="Primary backend; PosePipeline(use_fallback=True) switches to 'rtmpose'."
    )
    model: str = Field(
        "yolo11n-pose",
        description="YOLO pose model: a name under <weights>/pose/ (NAME.onnx) or a path to an .onnx file.",
    )
    int8: bool = Field(
        True,
        description="Use the INT8 twin (<model>-int8.onnx, made by prepare_embedded): about half the CPU "
        "time of FP32, keypoints within ~1% of the person's height of it. Ignored for an explicit .onnx path, "
        "and on x86 CPUs without VNNI, whose int8 kernels saturate (FP32 is then both exact and faster).",
    )
    input_size: int = Field(
        640,
        ge=64,
        description="Long side in pixels the frame is letterboxed to (rounded up to a multiple of 32). "
        "Smaller is faster and misses small people: 320 is ~3x cheaper than 640.",
    )
    threads: int = Field(2, ge=1, description="onnxruntime intra-op threads for a frame analysed alone (the "
                         "machine has 2 cores).")
    threads_beside: int = Field(
        1, ge=1, description="... and for a frame analysed while another one is (several sessions, the server's "
        "two vision workers: realtime/config.py `vision_workers`). So 4 streams on 2 cores got 14.2 analysed "
        "fps each where one frame at a time on 2 threads gave 10.2: a frame on 2 threads takes less wall time "
        "but more CPU, spent keeping the threads in step (benchmarks/vision.py, docs/DEPLOYMENT.md).")
    providers: list[str] | None = Field(
        None,
        description="onnxruntime execution providers in order of preference; None = CUDA when this "
        "onnxruntime offers it, then CPU.",
    )
    score_threshold: float = Field(0.25, ge=0.0, le=1.0, description="Minimum confidence of a person: the "
                                   "subject tracker starts following someone only from such a detection.")
    continue_score_threshold: float = Field(
        0.1, ge=0.0, le=1.0, description="Detections down to this confidence are returned too, to continue someone "
        "already followed (coaching.tracking, ByteTrack's second association): a small or blurred person scores "
        "0.1-0.25 on many frames. At score_threshold or above: off.")
    nms_iou_threshold: float = Field(
        0.7, ge=0.0, le=1.0, description="Boxes overlapping more than this are one person (Ultralytics' default)."
    )
    max_persons: int = Field(20, ge=1, description="At most this many people per frame, best first.")
    rtmpose_model: str = Field(
        RTMW_URL,
        description="RTMPose/RTMW ONNX for the fallback: a local .onnx/.zip path, or the URL that "
        "prepare_full fetched into <weights>/pose/.",
    )
    rtmpose_input_size: tuple[int, int] = Field(
        (192, 256), description="(width, height) of the RTMPose crop when the ONNX input shape is dynamic."
    )
    simcc_split_ratio: float = Field(2.0, gt=0.0, description="SimCC bins per input pixel (RTMPose uses 2.0).")
    box_padding: float = Field(1.25, gt=0.0, description="Person box enlargement before the RTMPose crop.")
    refine: Literal["blazepose"] | None = Field(
        "blazepose",
        description="Top-down refinement of the coached person (one a frame, ~5 ms on these 2 cores): 'blazepose' "
        "reads their joints again with MediaPipe's BlazePose landmark model (models/pose/blazepose.py: far surer "
        "elbows and knees where a limb folds against the body), None keeps the YOLO backend's keypoints.",
    )
    blazepose_margin: float = Field(1.25, gt=0.0, description="The refined region's side over the person's extent.")
    blazepose_min_presence: float = Field(
        0.5, ge=0.0, le=1.0, description="Below this pose flag BlazePose sees no body there: YOLO's keypoints stay.")

    @classmethod
    def for_profile(cls, profile: Literal["embedded", "full"]) -> PoseOptions:
        """The options a profile runs with: `full` is YOLOv8s-pose, CUDA first, on a GPU machine."""
        if profile == "full":
            return cls(model="yolov8s-pose", int8=False, threads=4, threads_beside=4)
        return cls()

    @property
    def lowest_score(self) -> float:
        """The least confidence of a detection the pose family returns."""
        return min(self.score_threshold, self.continue_score_threshold)
