"""BlazePose GHUM (MediaPipe's pose landmark model, "full") as a top-down refiner of YOLO's person.

Why: YOLO11n-pose finds people well but places their joints loosely where a limb folds against the
body. At the bottom of a side-view push-up it collapses the near elbow onto the shoulder and reads
the arm at 90-150 degrees where it is bent to 55-60 (WorkoutTracker `push-up_6`), so correct reps
were cued as "not lowering all the way". BlazePose, made for fitness, reads the same frames at 55-62
degrees and says the far arm is hidden (visibility 0.1-0.3) instead of guessing it.

How: as MediaPipe's own pipeline does it, but with YOLO as the detector and the subject tracker
choosing whom (one person a frame, the one being coached: `realtime.analysis.FrameAnalyzer`).
The person's region is centred on the hips and turned so the hips-to-shoulders axis points up (the
landmark model was trained on upright crops: a push-up is lying on its side to it otherwise), sized
to the person's keypoints, and warped to the model's 256x256 input. The model gives 39 landmarks (33 body points and
6 auxiliary ones) in crop pixels with visibility and presence logits; the 17 COCO joints are taken
(MediaPipe-33 indices 0, 2, 5, 7, 8, 11-16, 23-28, as the real data's MediaPipe sources map them)
and warped back. A joint's confidence is its visibility times its presence (both sigmoids), so a
limb hidden behind the body drops out and the near one speaks for both.

The weights come out of the `mediapipe` 0.10.21 wheel (Apache-2.0) at setup (`prepare.py`); they
run through LiteRT (`ai-edge-litert`, the TFLite runtime) with XNNPACK: ~4.5 ms a person on two
threads of these cores, ~8 ms on one.
"""

from __future__ import annotations

import importlib.util
import math
import threading
from pathlib import Path

import cv2
import numpy as np

from models.pose.base import NUM_KEYPOINTS, Person, PoseModelUnavailable
from models.pose.image import to_bgr
from models.pose.options import PoseOptions

INPUT_SIZE = 256
# MediaPipe-33 landmark per COCO-17 joint.
COCO_FROM_BLAZEPOSE = np.array([0, 2, 5, 7, 8, 11, 12, 13, 14, 15, 16, 23, 24, 25, 26, 27, 28])
_VALUES_PER_LANDMARK = 5  # x, y, z, visibility logit, presence logit
_SEEN = 0.3  # detector joints at least this sure place the region
_L_SHOULDER, _R_SHOULDER, _L_HIP, _R_HIP = 5, 6, 11, 12


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _mid(points: np.ndarray, a: int, b: int) -> np.ndarray | None:
    seen = [points[i, :2] for i in (a, b) if points[i, 2] >= _SEEN]
    return np.mean(seen, axis=0) if seen else None


def region(keypoints: np.ndarray, box: np.ndarray, margin: float) -> tuple[np.ndarray, float, float]:
    """(centre, side, rotation in radians) of the square region the landmark model reads.

    Centred on the hips and turned so that the hips-to-shoulders axis points up when both are seen
    (MediaPipe's alignment); the side covers every sure keypoint and the box around that centre,
    times `margin`. Without hips and shoulders: the box, unturned.
    """
    hips, shoulders = _mid(keypoints, _L_HIP, _R_HIP), _mid(keypoints, _L_SHOULDER, _R_SHOULDER)
    x1, y1, x2, y2 = (float(v) for v in box)
    if hips is None or shoulders is None or np.linalg.norm(shoulders - hips) < 1.0:
        centre = np.array([(x1 + x2) / 2, (y1 + y2) / 2], np.float32)
        return centre, max(x2 - x1, y2 - y1) * margin, 0.0
    up = shoulders - hips
    # The turn that takes `up` to image-up (0, -1) (y grows downward).
    rotation = math.atan2(-up[0], -up[1])
    cos, sin = math.cos(rotation), math.sin(rotation)
    turn = np.array([[cos, -sin], [sin, cos]], np.float32)
    seen = keypoints[keypoints[:, 2] >= _SEEN, :2] - hips
    corners = np.array([[x1, y1], [x2, y1], [x1, y2], [x2, y2]], np.float32) - hips
    # Both the keypoints (the body's true extent) and the box (what the detector saw of it), in the
    # turned frame; the box's corners overstate a lying body's height, so they count at 0.8.
    turned_points = seen @ turn.T if len(seen) else np.zeros((0, 2))
    turned_box = corners @ turn.T
    half = max(float(np.abs(turned_points).max(initial=0.0)), 0.8 * float(np.abs(turned_box).max()))
    torso = float(np.linalg.norm(up))
    return hips.astype(np.float32), max(2.0 * half, 2.5 * torso) * margin, rotation


def region_matrix(centre: np.ndarray, side: float, rotation: float) -> np.ndarray:
    """The 2x3 affine from frame pixels to the turned INPUT_SIZE crop of the region."""
    scale = INPUT_SIZE / max(side, 1.0)
    cos, sin = math.cos(rotation) * scale, math.sin(rotation) * scale
    # crop = R * (p - centre) + INPUT_SIZE / 2, with R turning by `rotation` about the centre.
    return np.array([
        [cos, -sin, INPUT_SIZE / 2 - cos * centre[0] + sin * centre[1]],
        [sin, cos, INPUT_SIZE / 2 - sin * centre[0] - cos * centre[1]],
    ], np.float32)


def decode(raw: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """(17, 3) COCO keypoints in frame pixels from the model's (195,) landmark tensor."""
    landmarks = raw.reshape(-1, _VALUES_PER_LANDMARK)[COCO_FROM_BLAZEPOSE]
    back = cv2.invertAffineTransform(matrix)
    xy = landmarks[:, :2] @ back[:, :2].T + back[:, 2]
    confidence = _sigmoid(landmarks[:, 3]) * _sigmoid(landmarks[:, 4])
    return np.column_stack([xy, confidence]).astype(np.float32)


class BlazePoseRefiner:
    """Top-down BlazePose on a person another backend found (`PersonRefiner`).

    A person the landmark model does not see (pose flag under `options.blazepose_min_presence`)
    keeps the detector's keypoints. Thread-safe: each calling thread gets its own interpreters
    (LiteRT's are not shareable): one on `options.threads` for a person read alone, one on
    `options.threads_beside` for a person read while another thread reads one (two sessions'
    frames side by side), as the YOLO sessions do.
    """

    def __init__(self, model_path: Path, options: PoseOptions) -> None:
        if not model_path.is_file():
            raise PoseModelUnavailable(
                f"BlazePose landmark model {model_path} is missing: run scripts/setup.sh (models.pose.prepare_embedded)")
        if importlib.util.find_spec("ai_edge_litert") is None:  # fail here, at load, not on the first frame
            raise PoseModelUnavailable("the LiteRT runtime is not installed: pip install ai-edge-litert")
        self.model_path = model_path
        self.options = options
        self._local = threading.local()
        self._running = 0  # people being read now, over all threads
        self._running_lock = threading.Lock()

    def _interpreter(self, threads: int) -> tuple[object, int, int, int]:
        interpreters: dict[int, tuple[object, int, int, int]] | None = getattr(self._local, "interpreters", None)
        if interpreters is None:
            interpreters = self._local.interpreters = {}
        if threads not in interpreters:
            from ai_edge_litert.interpreter import Interpreter

            interpreter = Interpreter(model_path=str(self.model_path), num_threads=threads)
            interpreter.allocate_tensors()
            outputs = {d["name"]: d["index"] for d in interpreter.get_output_details()}
            interpreters[threads] = (interpreter, interpreter.get_input_details()[0]["index"], outputs["Identity"],
                                     outputs["Identity_1"])
        return interpreters[threads]

    def _landmarks(self, blob: np.ndarray) -> tuple[float, np.ndarray]:
        """The pose flag and the (195,) landmark tensor for one crop."""
        with self._running_lock:
            threads = self.options.threads_beside if self._running else self.options.threads
            self._running += 1
        try:
            interpreter, input_index, landmarks_index, flag_index = self._interpreter(threads)
            interpreter.set_tensor(input_index, blob)  # type: ignore[attr-defined]
            interpreter.invoke()  # type: ignore[attr-defined]
            flag = float(interpreter.get_tensor(flag_index).reshape(-1)[0])  # type: ignore[attr-defined]
            return flag, interpreter.get_tensor(landmarks_index)[0]  # type: ignore[attr-defined]  (a copy)
        finally:
            with self._running_lock:
                self._running -= 1

    def refine_person(self, image: np.ndarray, person: Person) -> Person:
        """`person` with BlazePose keypoints, or as it came when the model does not see a body there."""
        bgr = to_bgr(image)
        if bgr.shape[0] == 0 or bgr.shape[1] == 0:
            return person
        centre, side, rotation = region(person.keypoints, person.box, self.options.blazepose_margin)
        matrix = region_matrix(centre, side, rotation)
        crop = cv2.warpAffine(bgr, matrix, (INPUT_SIZE, INPUT_SIZE), flags=cv2.INTER_LINEAR,
                              borderMode=cv2.BORDER_CONSTANT, borderValue=(0, 0, 0))
        blob = cv2.cvtColor(crop, cv2.COLOR_BGR2RGB).astype(np.float32)[None] * (1.0 / 255.0)
        flag, landmarks = self._landmarks(blob)
        if flag < self.options.blazepose_min_presence:
            return person
        keypoints = decode(landmarks, matrix)
        return Person(keypoints=keypoints[:NUM_KEYPOINTS], box=person.box, score=person.score)
