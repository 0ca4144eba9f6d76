"""The pose model's view of the real videos, computed once and kept: who it saw in every frame,
and how the refinement (BlazePose) reads each of them, as a live session reads the one it tracks.

Pose is the slow part of anything done over the real videos (~34k frames, ~10 minutes on these 2
cores), and what comes after it (subject tracking, the coach) changes often. So each video's
detected people per frame are stored under ~/.cache/coach-video-poses/, keyed by the video's and
the pose model's sha256 and its input size, and replayed: the accuracy benchmark runs tracking and
the coach anew on them every run, and training learns from the keypoints the tracker makes of
them, in the very convention the live loop feeds the skeleton model.
"""

from __future__ import annotations

import functools
import hashlib
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from coaching.tracking import PersonLike, SubjectTracker
from models.paths import weights_dir
from models.pose.base import Person
from models.pose.options import PoseOptions
from training.real_data import VideoFile

CACHE_DIR = Path.home() / ".cache" / "coach-video-poses"
DETECT_SCORE = 0.05  # people are stored down to this score; replays keep the live threshold's


def pose_model_file() -> Path:
    """The pose model file the embedded profile loads."""
    from models.pose.pipeline import yolo_model_path

    return yolo_model_path(PoseOptions(), weights_dir())


def file_sha256(path: Path) -> str:
    """sha256 of a file, read in blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def cache_path(video: VideoFile, model_sha: str) -> Path:
    """Where a video's detections by the pose model with this sha256, at the live input size, are kept."""
    size = PoseOptions().input_size
    return CACHE_DIR / f"{video.sha256[:32]}-{model_sha[:16]}-{size}px-people{DETECT_SCORE}.npz"


@dataclass
class Detections:
    """A video's pose model output per frame: every person detected with a score of at least
    DETECT_SCORE (up to P a frame, padded with score 0), frame times and the frame size. Tracking
    and coaching are replayed from it, with the people the live score threshold keeps: the pose
    model's non-maximum suppression goes best first, so a lower threshold only adds boxes.
    `refined` holds each person's keypoints as the pose family's refiner reads them (for the people
    the live threshold keeps; None when the refinement is off), so a replay refines the person it
    tracks exactly as a live session does, without the image."""

    keypoints: np.ndarray  # (N, P, 17, 3)
    boxes: np.ndarray  # (N, P, 4)
    scores: np.ndarray  # (N, P); 0 for padding
    times: np.ndarray
    width: int
    height: int
    refined: np.ndarray | None = None  # (N, P, 17, 3)

    def frame(self, index: int, min_score: float) -> tuple[list[Person], Callable[[PersonLike], np.ndarray] | None]:
        """The people of one frame the threshold keeps, and the refinement for the tracker
        (`SubjectTracker.update(refine=...)`; None without a stored refinement)."""
        kept = [j for j, s in enumerate(self.scores[index]) if s > 0 and s >= min_score]
        people = [Person(keypoints=self.keypoints[index, j], box=self.boxes[index, j], score=float(self.scores[index, j]))
                  for j in kept]
        if self.refined is None:
            return people, None
        rows = {id(person): self.refined[index, j] for person, j in zip(people, kept, strict=True)}
        return people, lambda person: rows[id(person)]

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.stem}.{os.getpid()}.tmp.npz")
        extra = {} if self.refined is None else {"refined": self.refined}
        np.savez_compressed(tmp, keypoints=self.keypoints, boxes=self.boxes, scores=self.scores,
                            times=self.times, size=np.array([self.width, self.height]), **extra)
        os.replace(tmp, path)  # a run killed mid-write leaves no half cache behind

    @classmethod
    def load(cls, path: Path) -> Detections:
        with np.load(path) as z:
            return cls(z["keypoints"], z["boxes"], z["scores"], z["times"], int(z["size"][0]), int(z["size"][1]),
                       z["refined"] if "refined" in z.files else None)


def detect_video(video: VideoFile, pose: Any) -> Detections:
    """The pose model over every frame, as `python -m realtime.analyze` runs it: each frame turned
    upright by its rotation tag, then FrameAnalyzer.process_image's pose call, and the pose
    family's refiner (`pose.refiner`) on every person the live threshold keeps."""
    import av

    from realtime.media.video_frames import upright_bgr

    people: list[list[Person]] = []
    refined: list[list[np.ndarray]] = []
    refiner, min_score = getattr(pose, "refiner", None), live_score_threshold()
    times: list[float] = []
    width = height = 0
    with av.open(str(video.path)) as container:
        stream = container.streams.video[0]
        rate = float(stream.average_rate or video.fps)
        for index, frame in enumerate(container.decode(stream)):
            image = upright_bgr(frame)
            height, width = image.shape[:2]
            found = pose.infer_2d(image)
            people.append(found)
            if refiner is not None:
                refined.append([refiner.refine_person(image, p).keypoints if p.score >= min_score else p.keypoints
                                for p in found])
            times.append(float(frame.time) if frame.time is not None else index / rate)
    n, most = len(people), max((len(p) for p in people), default=0)
    keypoints = np.zeros((n, most, 17, 3), np.float32)
    boxes = np.zeros((n, most, 4), np.float32)
    scores = np.zeros((n, most), np.float32)
    stored_refined = np.zeros((n, most, 17, 3), np.float32) if refiner is not None else None
    for i, frame_people in enumerate(people):
        for j, person in enumerate(frame_people):
            keypoints[i, j], boxes[i, j], scores[i, j] = person.keypoints, person.box, person.score
            if stored_refined is not None:
                stored_refined[i, j] = refined[i][j]
    return Detections(keypoints, boxes, scores, np.array(times), width, height, stored_refined)


@functools.cache
def pose_model_sha() -> str:
    """sha256 of the pose model file(s) the embedded profile loads (part of every cache key): the
    YOLO graph's, or with the BlazePose refinement on, that of both files and its settings."""
    options = PoseOptions()
    paths = [pose_model_file()]
    if options.refine == "blazepose":
        from models.pose.prepare import blazepose_path

        paths.append(blazepose_path(weights_dir()))
    for path in paths:
        if not path.is_file():
            raise FileNotFoundError(f"the pose model {path} is missing: run scripts/setup.sh")
    shas = [file_sha256(path) for path in paths]
    if len(shas) == 1:
        return shas[0]
    settings = f"subject/{options.blazepose_margin}/{options.blazepose_min_presence}/{options.lowest_score}"
    return hashlib.sha256(("".join(shas) + settings).encode()).hexdigest()


def live_pose_options(threads: int) -> PoseOptions:
    """The live pose settings, but keeping people down to DETECT_SCORE (see Detections)."""
    return PoseOptions(threads=threads, score_threshold=DETECT_SCORE)


def live_score_threshold() -> float:
    """The least person score a live session keeps (some only to continue a track)."""
    return PoseOptions().lowest_score


def tracked_keypoints(detections: Detections) -> list[np.ndarray | None]:
    """The coached person's keypoints per frame (None: nobody tracked), as the live subject
    tracker makes them from the people the live score threshold keeps."""
    tracker = SubjectTracker(start_score=PoseOptions().score_threshold)
    min_score = live_score_threshold()
    out: list[np.ndarray | None] = []
    for i, t in enumerate(detections.times):
        people, refine = detections.frame(i, min_score)
        subject = tracker.update(people, float(t), (detections.width, detections.height), refine)
        out.append(None if subject is None else subject.keypoints)
    return out


def missing(videos: Sequence[VideoFile]) -> list[VideoFile]:
    """The videos whose detections are not stored yet."""
    sha = pose_model_sha()
    return [v for v in videos if not cache_path(v, sha).is_file()]


class VideoPoser:
    """Runs the pose model over videos and stores their detections (one per process)."""

    def __init__(self, threads: int) -> None:
        from models.pose import PosePipeline

        self.pose = PosePipeline(options=live_pose_options(threads), weights=weights_dir())
        self.sha = pose_model_sha()

    def __call__(self, video: VideoFile) -> int:
        detections = detect_video(video, self.pose)
        detections.save(cache_path(video, self.sha))
        return len(detections.times)


def load(video: VideoFile) -> Detections:
    """A video's stored detections (FileNotFoundError when the pose model has not been run on it)."""
    return Detections.load(cache_path(video, pose_model_sha()))
