"""Read the real labelled development set (`../shared/data/real/`, see its README) as typed records.

The data stays where it is: nothing here copies it. Tests, benchmarks and the training script
find it through `real_data_root()` (COACH_REAL_DATA, else `../shared/data/real` beside the
checkout) and skip or fail clearly when it is absent.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

import numpy as np

from coaching.skeleton import Joint

ROOT = Path(__file__).resolve().parent.parent
Coords = Literal["pixels", "normalized_image", "minmax_per_frame", "hip_centred"]
DEFAULT_FPS = 30.0
"""Frame rate assumed where the source gives none (Countix-Fitness, RepCount-A): both come from
ordinary phone and web video, and rep durations read at 30 fps are the usual 1-4 s."""


def real_data_root() -> Path | None:
    """The development set's folder, or None when this machine does not have it."""
    env = os.environ.get("COACH_REAL_DATA")
    root = Path(env) if env else ROOT.parent / "shared" / "data" / "real"
    return root if (root / "manifest.json").is_file() else None


@dataclass(frozen=True)
class KeypointFile:
    """One keypoint file: a sequence of consecutive frames, or independent labelled frames."""

    path: Path
    rel: str
    source: str
    exercise: str
    data_kind: Literal["sequence", "frames"]
    coords: Coords
    fps: float | None
    width: float | None
    height: float | None
    labels: dict[str, Any]
    meta: dict[str, Any] = field(repr=False)

    @cached_property
    def frames(self) -> np.ndarray:
        """(N, 17, 3) x, y, confidence; a joint the source lacks is conf 0 (and x = y = 0)."""
        data = json.loads(self.path.read_text())
        return self._as_stored(np.asarray(data["frames"], dtype=np.float32).reshape(-1, 17, 3))

    def _as_stored(self, frames: np.ndarray) -> np.ndarray:
        """The file's frames, with what is known to be wrong in a source put right.

        PushFit's MoveNet keypoints are marked as pixels, but MoveNet saw each clip letterboxed
        into a square and the source scaled its square-normalised output by the image's width and
        height: a 16:9 clip's bodies come out squashed to 56% of their height (measured against
        the shipped pose model on the same 223 videos: the ratio of vertical to horizontal joint
        spread is the clip's aspect, 1.66-1.72 for 16:9, 1.38 for 4:3, 0.56 for portrait). Undone
        here, so angles measured on these files are true."""
        if self.source != "pushfit_movenet" or not self.width or not self.height:
            return frames
        side = max(self.width, self.height)
        fixed = frames.copy()
        for axis, extent in ((0, self.width), (1, self.height)):
            fixed[..., axis] = frames[..., axis] * (side / extent) - (side - extent) / 2
        fixed[frames[..., 2] <= 0] = 0.0  # a missing joint stays [0, 0, 0]
        return fixed

    @property
    def name(self) -> str:
        return self.path.stem

    @property
    def rep_count(self) -> int | None:
        return self.labels.get("rep_count")

    @property
    def frame_rate(self) -> float:
        """The file's fps, or DEFAULT_FPS where the source does not say."""
        return float(self.fps) if self.fps else DEFAULT_FPS

    @property
    def first_rep_end_frame(self) -> int | None:
        """Frame where the first labelled rep is over: the end of its segment (RepCount-A), else its
        one mark (WorkoutTracker's); None without per-rep labels."""
        if self.labels.get("rep_segments"):
            return int(self.labels["rep_segments"][0][1])
        if self.labels.get("rep_frames"):
            return int(self.labels["rep_frames"][0])
        return None


@dataclass(frozen=True)
class VideoFile:
    """One original clip with its sidecar labels (rep_frames / rep_count and/or form)."""

    path: Path
    rel: str
    source: str
    exercise: str
    fps: float
    width: int
    height: int
    n_frames: int
    labels: dict[str, Any]
    sha256: str
    """Of the video bytes (from the manifest): a cache of anything derived from the clip keys on it."""
    keypoints_twin: str | None = None
    """Stem of the PushFit MoveNet keypoint file of the very same clip, if there is one."""

    @property
    def name(self) -> str:
        return self.path.stem

    @property
    def first_rep_end_frame(self) -> int | None:
        """Frame of the first labelled rep's mark (WorkoutTracker's only per-rep label), or None.
        The source calls it the rep's bottom, but at 80 of its 89 marks the elbow or knee is in the
        straighter half of the clip's range: it marks where the rep ends."""
        frames = self.labels.get("rep_frames")
        return int(frames[0]) if frames else None

    @property
    def rep_count(self) -> int | None:
        return self.labels.get("rep_count")

    @property
    def form(self) -> str | None:
        return self.labels.get("form")


def _source_folder(rel: str) -> str:
    """'keypoints/countix_fitness/test_sequences/x/y.json' -> 'countix_fitness/test_sequences'."""
    parts = rel.split("/")
    return "/".join(parts[1:3]) if parts[1] in ("countix_fitness", "repcount") else parts[1]


class RealData:
    """The manifest's files as records, filtered by where they came from and what they hold."""

    def __init__(self, root: Path | None = None) -> None:
        root = root or real_data_root()
        if root is None:
            raise FileNotFoundError("the real development set is not here: expected ../shared/data/real "
                                    "beside the checkout, or COACH_REAL_DATA")
        self.root = root
        self.manifest = json.loads((root / "manifest.json").read_text())

    def keypoint_files(self, folder: str | None = None, data_kind: str | None = None) -> Iterator[KeypointFile]:
        """Keypoint files, optionally only those of one source folder ('repcount/test_sequences',
        'countix_fitness/test_sequences', 'countix_fitness/salient_frames', 'pushfit_movenet',
        'gym_exercise_correction') or of one data kind."""
        for rel in self.keypoint_paths(folder, data_kind):
            yield self.keypoint_file(rel)

    def keypoint_paths(self, folder: str | None = None, data_kind: str | None = None) -> list[str]:
        """Manifest paths of keypoint files, filtered as in keypoint_files, without opening any
        (a worker process can then open only its own share)."""
        out = []
        for entry in self.manifest["files"]:
            rel = entry["path"]
            if entry.get("kind") != "keypoints" or not rel.endswith(".json"):
                continue
            if folder is not None and _source_folder(rel) != folder:
                continue
            if data_kind is not None and entry.get("data_kind") != data_kind:
                continue
            out.append(rel)
        return out

    def keypoint_file(self, rel: str) -> KeypointFile:
        """One keypoint file by its manifest path. The JSON is parsed once: its frames come with it."""
        path = self.root / rel
        head = json.loads(path.read_text())
        record = KeypointFile(
            path=path, rel=rel, source=_source_folder(rel), exercise=head["exercise"], data_kind=head["data_kind"],
            coords=head["coords"], fps=head.get("fps"), width=head.get("width"), height=head.get("height"),
            labels=head.get("labels", {}), meta={k: v for k, v in head.items() if k not in ("frames", "labels")},
        )
        # Fill the cached property from this parse rather than reading the file a second time.
        record.__dict__["frames"] = record._as_stored(np.asarray(head["frames"], dtype=np.float32).reshape(-1, 17, 3))
        return record

    def videos(self, folder: str | None = None) -> Iterator[VideoFile]:
        """Videos with their sidecars, optionally of one source folder ('workouttracker', 'pushfit')."""
        for entry in self.manifest["files"]:
            rel = entry["path"]
            if not rel.endswith(".mp4"):
                continue
            if folder is not None and rel.split("/")[1] != folder:
                continue
            path = self.root / rel
            side = json.loads(path.with_suffix(".json").read_text())
            yield VideoFile(path=path, rel=rel, source=rel.split("/")[1], exercise=side["exercise"],
                            fps=float(side["fps"]), width=int(side["width"]), height=int(side["height"]),
                            n_frames=int(side["frames"]), labels=side.get("labels", {}), sha256=entry["sha256"],
                            keypoints_twin=_keypoints_twin(side))


def _keypoints_twin(sidecar: dict[str, Any]) -> str | None:
    """The PushFit MoveNet file of the same clip: named by a PushFit sidecar, or for a WorkoutTracker
    clip that PushFit also holds, the PushFit copy's name (its keypoint file has that stem)."""
    if sidecar.get("keypoints"):
        return Path(sidecar["keypoints"]).stem
    for copy in sidecar.get("also_in", []):
        if copy.get("source") == "riyer8/cs231n-pushfit":
            return Path(copy["path"]).stem
    return None


def as_pixels(kf: KeypointFile, frames: np.ndarray | None = None, size: float = 480.0,
              aspect: float = 1.0) -> tuple[np.ndarray, int, int]:
    """A file's frames as pixel keypoints of an image the analysis can take, with that image's size.

    Pixel files keep their coordinates (the image size, when unknown, is taken from the extent of
    the points). Normalised and hip-centred files are scaled into a `size`-high image `aspect`
    times as wide: their aspect ratio is unknown (square by default; `plank_image_aspect`
    estimates it for side-view planks), so angles from them are only roughly true. Missing joints
    stay conf 0.
    """
    kp = (kf.frames if frames is None else frames).astype(np.float64).copy()
    present = kp[..., 2] > 0
    if kf.coords == "pixels":
        w = kf.width or float(np.nanmax(np.where(present, kp[..., 0], 0)) * 1.1 + 1)
        h = kf.height or float(np.nanmax(np.where(present, kp[..., 1], 0)) * 1.1 + 1)
        return kp, int(round(w)), int(round(h))
    if kf.coords == "hip_centred":
        kp[..., :2] += 0.5  # hips at the image centre
    margin = 0.1 * size
    kp[..., :2] = kp[..., :2] * (size - 2 * margin) + margin
    kp[..., 0] *= aspect
    kp[~present] = 0.0
    return kp, int(round(aspect * size)), int(size)


# Adult proportions (Drillis & Contini, fractions of body height): thigh 0.245, shank 0.246,
# shoulder-to-hip 0.288, upper arm 0.186. In a side-view plank the upper arm is about vertical and
# the others about horizontal, so their length ratios in the image tell its aspect ratio.
_PLANK_BONES = {"thigh": ((Joint.LEFT_HIP, Joint.LEFT_KNEE), 0.245 / 0.186),
                "shank": ((Joint.LEFT_KNEE, Joint.LEFT_ANKLE), 0.246 / 0.186),
                "trunk": ((Joint.LEFT_SHOULDER, Joint.LEFT_HIP), 0.288 / 0.186)}
_UPPER_ARM = (Joint.LEFT_SHOULDER, Joint.LEFT_ELBOW)


def plank_image_aspect(frames: np.ndarray) -> float:
    """The width/height ratio of the images side-view plank frames in image-normalised coordinates
    came from (Gym-Exercise-Correction's, whose size is not given): the one that gives them adult
    bone-length ratios. No labels are read; drawn square instead, the bodies are squashed."""
    xy = frames[..., :2].astype(np.float64)
    present = frames[..., 2] > 0

    def lengths(pair: tuple[Joint, Joint], aspect: float) -> np.ndarray:
        a, b = pair
        ok = present[:, a] & present[:, b]
        d = (xy[ok, b] - xy[ok, a]) * np.array([aspect, 1.0])
        return np.hypot(d[:, 0], d[:, 1])

    def misfit(aspect: float) -> float:
        arm = float(np.median(lengths(_UPPER_ARM, aspect)))
        return sum(math.log(float(np.median(lengths(pair, aspect))) / arm / ratio) ** 2
                   for pair, ratio in _PLANK_BONES.values())

    grid = np.arange(1.0, 2.001, 0.01)
    return float(grid[int(np.argmin([misfit(a) for a in grid]))])
