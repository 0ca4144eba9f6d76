"""Fit the video head (phase and technique over Video Swin clip features) on the real development videos.

    python scripts/train_video_head.py --backbone models/weights/video/swin3d_t-7615ae03.pth --profile full
    python scripts/train_video_head.py --tiny --limit 1 --out /tmp/clip_head.npz   # random tiny backbone

Data (read in place from ../shared/data/real, never copied; see its README):
- phase: WorkoutTracker clips with rep marks (`rep_frames`). A clip ending at frame t is `turn`
  when t is within --turn-s of a mark, `rest` when at least --rest-s from every mark, `middle`
  between. (The source calls the marks rep bottoms; training/real_data.py found most of them where
  the rep ends, so `turn` follows the marks as labelled, whatever they are.)
- technique: every clip with a form label (PushFit correct/wrong, and the WorkoutTracker clips
  PushFit also holds), every clip cut from it labelled alike.
Clips are cut as at run time (models.video.clips.clip_indices: `clip_length` frames at
`sample_rate_hz`, ending at the labelled frame), --clips-per-second of them per second of video.
Videos are split as the skeleton model's are (training.split: by the PushFit twin's name, a video
without one held out); the head is fitted on the training side and scored on the held-out side,
per source. Meant for a GPU machine with the real checkpoint (--profile full); --tiny proves the
path on CPU with a random network.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import torch
from tqdm import tqdm

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from models.video import PHASES, TECHNIQUES, ClipFeatures, ClipHead, VideoOptions, fit_head  # noqa: E402
from models.video.clips import clip_indices  # noqa: E402
from models.video.swin3d import SwinConfig, VideoSwin3d  # noqa: E402
from training.real_data import RealData, VideoFile  # noqa: E402
from training.split import video_is_held_out  # noqa: E402

TINY = SwinConfig(window_size=(2, 4, 4), embed_dim=8, depths=(1, 1), num_heads=(1, 2), num_classes=4)


@dataclass
class Examples:
    """Features and labels of one task, with the source of each for per-source scores."""

    features: list[np.ndarray] = field(default_factory=list)
    labels: list[int] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)

    def add(self, feature: np.ndarray, label: int, source: str) -> None:
        self.features.append(feature)
        self.labels.append(label)
        self.sources.append(source)

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        return np.stack(self.features), np.asarray(self.labels)


def phase_label(end: int, fps: float, marks: list[int], turn_s: float, rest_s: float) -> int:
    """Index into PHASES of the frame `end`, from its distance in seconds to the nearest rep mark."""
    distance = min(abs(end - m) for m in marks) / fps
    return PHASES.index("turn" if distance <= turn_s else "rest" if distance >= rest_s else "middle")


def read_crops(video: VideoFile, wanted: set[int], clips: ClipFeatures) -> dict[int, np.ndarray]:
    """The backbone's crops of the wanted frames, decoded in one pass (full frames are never kept)."""
    capture = cv2.VideoCapture(str(video.path))
    crops: dict[int, np.ndarray] = {}
    index = 0
    try:
        while index <= max(wanted):
            ok, frame = capture.read()
            if not ok:
                break
            if index in wanted:
                crops[index] = clips.crop(frame)
            index += 1
    finally:
        capture.release()
    return crops


def select(data: RealData, limit: int | None) -> list[tuple[VideoFile, bool]]:
    """(video, held out) for every labelled video, or at most `limit` per task, label and side."""
    chosen: dict[str, tuple[VideoFile, bool]] = {}
    taken: dict[tuple[str, str, bool], int] = defaultdict(int)
    for video in data.videos():
        held_out = video_is_held_out(video.keypoints_twin)
        groups = ([("phase", "marks")] if video.labels.get("rep_frames") else []) + (
            [("technique", video.form)] if video.form in TECHNIQUES else [])
        for task, label in groups:
            if limit is None or taken[(task, label, held_out)] < limit:
                taken[(task, label, held_out)] += 1
                chosen[video.rel] = (video, held_out)
    return list(chosen.values())


def extract(videos: list[tuple[VideoFile, bool]], clips: ClipFeatures, args: argparse.Namespace,
            ) -> dict[tuple[str, bool], Examples]:
    """Features of every clip cut from the videos, as examples of (task, held out)."""
    examples: dict[tuple[str, bool], Examples] = defaultdict(Examples)
    for video, held_out in tqdm(videos, desc="video clips", unit="video"):
        step = video.fps / args.clips_per_second
        ends = sorted({int(e) for e in np.round(np.arange(step, video.n_frames, step))} - {video.n_frames})
        ends = ends or [video.n_frames - 1]
        indices = {e: clip_indices(e, video.fps, clips.options) for e in ends}
        crops = read_crops(video, {i for idx in indices.values() for i in idx}, clips)
        ends = [e for e in ends if all(i in crops for i in indices[e])]  # a sidecar may overstate the frames
        for start in range(0, len(ends), args.batch):
            batch = ends[start : start + args.batch]
            features = clips.features_of_crops(np.stack([np.stack([crops[i] for i in indices[e]]) for e in batch]))
            for end, feature in zip(batch, features):
                marks = video.labels.get("rep_frames")
                if marks:
                    label = phase_label(end, video.fps, marks, args.turn_s, args.rest_s)
                    examples[("phase", held_out)].add(feature, label, video.source)
                if video.form in TECHNIQUES:
                    examples[("technique", held_out)].add(feature, TECHNIQUES.index(video.form), video.source)
    return examples


def report(head: ClipHead, examples: dict[tuple[str, bool], Examples]) -> None:
    """Accuracy and class-balanced accuracy on the held-out clips, per task and source."""
    for task, names in (("phase", PHASES), ("technique", TECHNIQUES)):
        held = examples.get((task, True))
        if held is None or not held.features:
            print(f"{task}: no held-out clips")
            continue
        features, labels = held.arrays()
        probabilities = head.probabilities(features)[0 if task == "phase" else 1]
        predicted = probabilities.argmax(axis=1)
        for source in sorted(set(held.sources)):
            mine = np.asarray(held.sources) == source
            recalls = [float(np.mean(predicted[mine & (labels == c)] == c))
                       for c in range(len(names)) if np.any(mine & (labels == c))]
            print(f"{task} / {source}: {mine.sum()} held-out clips, accuracy "
                  f"{np.mean(predicted[mine] == labels[mine]):.3f}, balanced {np.mean(recalls):.3f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    backbone = parser.add_mutually_exclusive_group(required=True)
    backbone.add_argument("--backbone", type=Path, help="the Video Swin checkpoint (.pth) of --arch")
    backbone.add_argument("--tiny", action="store_true", help="a random tiny backbone on 4 frames of 32 px")
    parser.add_argument("--arch", default="swin3d_t", choices=["swin3d_t", "swin3d_s", "swin3d_b"])
    parser.add_argument("--profile", default="embedded", choices=["embedded", "full"],
                        help="the VideoOptions the head is for (clip length, input size, device)")
    parser.add_argument("--out", type=Path, help="head file; default: the profile's VideoOptions.head_path()")
    parser.add_argument("--data", type=Path, help="the development set; default ../shared/data/real")
    parser.add_argument("--limit", type=int, help="at most this many videos per task, label and split side")
    parser.add_argument("--clips-per-second", type=float, default=2.0, help="clip ends per second of video")
    parser.add_argument("--turn-s", type=float, default=0.2, help="within this of a rep mark: turn")
    parser.add_argument("--rest-s", type=float, default=0.6, help="at least this from every mark: rest")
    parser.add_argument("--batch", type=int, default=8, help="clips per backbone pass")
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    options = VideoOptions.for_profile(args.profile).model_copy(update={"arch": args.arch})
    if args.tiny:
        torch.manual_seed(args.seed)
        options = options.model_copy(update={"clip_length": 4, "input_size": 32, "device": "cpu"})
        clips = ClipFeatures(options, backbone=VideoSwin3d(TINY))
    else:
        clips = ClipFeatures(options.model_copy(update={"checkpoint": args.backbone}))
    out = args.out or options.head_path()

    started = time.monotonic()
    data = RealData(args.data)
    examples = extract(select(data, args.limit), clips, args)
    phase, technique = examples.get(("phase", False)), examples.get(("technique", False))
    if phase is None or technique is None:
        print("no training clips for phase or technique: is the development set complete?", file=sys.stderr)
        return 1
    head = fit_head(*phase.arrays(), *technique.arrays(), clips.feature_config, steps=args.steps, seed=args.seed)
    head.save(out)
    print(f"{len(phase.labels)} phase and {len(technique.labels)} technique training clips; head written to {out} "
          f"in {time.monotonic() - started:.0f} s")
    report(head, examples)
    return 0


if __name__ == "__main__":
    sys.exit(main())
