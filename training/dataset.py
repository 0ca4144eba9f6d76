"""Clips the skeleton action network learns from: real labelled keypoints and generated sequences.

A `Clip` is a run of keypoint frames (any coordinates: the features normalise per frame) with
its class and, where the source says it, a per-frame rep progress target (0 at the start
position, 1 at the turning point). Where each comes from:

  * RepCount-A sequences: class, and with measure_progress (the shipped recipe) a progress target
    read from the exercise's own measure where that measure counts the set's labelled reps
    (training.measured_progress). Their per-rep [start, end] marks do not say where the start
    position is: in continuous sets they often run bottom to bottom, and a progress target built
    on them taught the network two peaks per rep (tried; counts got worse);
  * Countix-Fitness sequences: class, and progress as RepCount-A's (counts, no marks); bench
    press and rope push-down are "other", sit-ups and pull-ups are exercises of ours;
  * PushFit MoveNet sequences: push-up class, and progress as RepCount-A's;
  * the videos of those clips (PushFit, WorkoutTracker push-ups) as the shipped pose model and the
    live subject tracker see them (training.video_poses): push-up class, in the very keypoint
    convention the live loop gives the network;
  * single labelled frames (Gym-Exercise-Correction, Countix salient frames): held still as a
    short clip, with the class and, from the phase label, progress 0 / 0.5 / 1;
  * generated sequences (tests/coaching_sequences.py): every exercise from any yaw, with faults
    and tempos, where progress is exact; walking and standing still are "other" with progress 0.

Only files `training.split.is_held_out` leaves in are used (the gym frames: the source's own
train files), so the held-out files give honest figures.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

import numpy as np

from training import video_poses
from training.measured_progress import measured_progress
from training.real_data import KeypointFile, RealData, VideoFile
from training.split import is_held_out, video_is_held_out

OTHER = "other"
# Progress of each single-frame phase label, per file's exercise (None: the label is not a phase we use).
FRAME_PHASE_PROGRESS: dict[str, dict[str, float]] = {
    "bicep_curl": {"D": 0.0, "M": 0.5, "U": 1.0},
    "squat": {"U": 0.0, "M": 0.5, "D": 1.0, "salient1": 0.0, "salient2": 1.0},
    "lunge": {"S": 0.0, "M": 0.5, "D": 1.0, "salient1": 1.0, "salient2": 0.0},
    "front_raise": {"salient1": 0.0, "salient2": 1.0},
    "push_up": {"salient1": 0.0, "salient2": 1.0},
    "pull_up": {"salient1": 0.0, "salient2": 1.0},
}
STILL_FRAMES = 20  # a labelled single frame becomes this many frames of holding that pose


@dataclass
class Clip:
    """frames (T, 17, 3); progress (T,) with NaN where unknown; label a class name; source: where
    it came from."""

    frames: np.ndarray
    label: str
    progress: np.ndarray
    source: str


def class_of(exercise: str, classes: list[str]) -> str:
    """A data set's exercise name as one of our classes: 'other:sit_up' is sit_up once we know it."""
    name = exercise.removeprefix("other:")
    return name if name in classes else OTHER


def _sequence_clip(kf: KeypointFile, classes: list[str], measure_progress: bool) -> Clip:
    progress = measured_progress(kf) if measure_progress else None
    return Clip(kf.frames, class_of(kf.exercise, classes),
                np.full(len(kf.frames), np.nan) if progress is None else progress, kf.source)


def _still_clips(kf: KeypointFile, classes: list[str], held_out: bool) -> list[Clip]:
    """Each labelled frame of a single-frame file, held still (the file's rows are independent)."""
    label = class_of(kf.exercise, classes)
    phases = kf.labels.get("phase")
    table = FRAME_PHASE_PROGRESS.get(label, {})
    videos = (kf.meta.get("frame_meta") or {}).get("video")
    out = []
    for i, frame in enumerate(kf.frames):
        video = str(videos[i]).removesuffix(".mp4") if videos else kf.name
        if kf.source == "countix_fitness/salient_frames" and is_held_out(video) != held_out:
            continue
        p = np.nan
        if label == "plank":
            p = 0.0
        elif phases is not None and phases[i] in table:
            p = table[phases[i]]
        out.append(Clip(np.repeat(frame[None], STILL_FRAMES, axis=0), label, np.full(STILL_FRAMES, p), kf.source))
    return out


def real_clips(data: RealData, classes: list[str], held_out: bool = False,
               leave_out: frozenset[str] = frozenset(), measure_progress: bool = False) -> list[Clip]:
    """The real development set's clips on one side of the split (held_out=False: the training side),
    without the data sets' exercises named in leave_out; measure_progress: counted sequences get a
    progress target from the exercise's own measure where it counts them."""
    clips: list[Clip] = []
    for folder in ("repcount/test_sequences", "countix_fitness/test_sequences", "pushfit_movenet"):
        for kf in data.keypoint_files(folder, data_kind="sequence"):
            if is_held_out(kf.name) == held_out and kf.exercise not in leave_out:
                clips.append(_sequence_clip(kf, classes, measure_progress))
    for kf in data.keypoint_files("gym_exercise_correction", data_kind="frames"):
        if (kf.meta.get("split_in_source") == "test") == held_out:
            clips += _still_clips(kf, classes, held_out)
    for kf in data.keypoint_files("countix_fitness/salient_frames", data_kind="frames"):
        if kf.exercise not in leave_out:
            clips += _still_clips(kf, classes, held_out)
    return clips


def training_videos(data: RealData, held_out: bool = False) -> list[VideoFile]:
    """The videos on one side of the split."""
    return [v for v in data.videos() if video_is_held_out(v.keypoints_twin) == held_out]


def video_clips(videos: list[VideoFile], classes: list[str]) -> list[Clip]:
    """Each video as the live loop would give it to the network: its stored detections
    (video_poses) through the subject tracker; frames with nobody tracked are empty."""
    clips = []
    for video in videos:
        tracked = video_poses.tracked_keypoints(video_poses.load(video))
        frames = np.stack([np.zeros((17, 3), np.float32) if k is None else k for k in tracked])
        clips.append(Clip(frames, class_of(video.exercise, classes), np.full(len(frames), np.nan),
                          f"{video.source}_video"))
    return clips


def manifest_hash(data: RealData) -> str:
    """sha256 over the manifest's list of files and their hashes: which data a model was trained on."""
    files = sorted((f["path"], f.get("sha256", "")) for f in data.manifest["files"])
    return hashlib.sha256(json.dumps(files).encode()).hexdigest()
