"""Coach a recorded set: `python -m realtime.analyze FILE [--exercise NAME] [--json OUT]`.

FILE is a video (anything FFmpeg reads) or a keypoint sequence (.json). The same pose model,
tracker and analysis as a live session run over it; the result is printed (exercise, reps, each
rep's phases, tempo, range and faults, sets) or written as JSON.

Keypoint sequence format (COCO-17, pixels):
    {"width": 640, "height": 480, "fps": 30,
     "frames": [{"t": 0.0, "keypoints": [[x, y, confidence], ... 17 ...]}, ...]}
`t` may be left out when `fps` is given; a frame may have "keypoints": null (nobody in view).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

import av
import numpy as np
from pydantic import BaseModel, Field, ValidationError, field_validator
from tqdm import tqdm

from coaching.events import Event
from coaching.exercises import EXERCISES
from coaching.measures import MEASURES
from coaching.session_stats import counted
from models.paths import pin_caches
from realtime.analysis import FrameAnalyzer
from realtime.media.video_frames import upright_bgr


class AnalysisError(RuntimeError):
    """The input cannot be analysed; the message says why, for a person to act on."""


class SequenceFrame(BaseModel):
    t: float | None = None
    keypoints: list[list[float | None]] | None = None

    @field_validator("keypoints")
    @classmethod
    def _seventeen(cls, value: list[list[float | None]] | None) -> list[list[float | None]] | None:
        if value is not None and (len(value) != 17 or any(len(k) != 3 for k in value)):
            raise ValueError("keypoints must be 17 triples [x, y, confidence] (COCO order)")
        return value


class KeypointSequence(BaseModel):
    width: int = Field(gt=0)
    height: int = Field(gt=0)
    fps: float | None = Field(None, gt=0)
    frames: list[SequenceFrame]


def _as_array(keypoints: list[list[float | None]] | None) -> np.ndarray | None:
    if keypoints is None:
        return None
    # JSON null, NaN and infinities all mean "not seen"; the analysis treats them as not visible.
    return np.array([[math.nan if v is None else v for v in k] for k in keypoints], dtype=np.float32)


def analyse_sequence(path: Path, exercise: str) -> tuple[list[Event], dict[str, Any]]:
    try:
        sequence = KeypointSequence.model_validate_json(path.read_bytes())
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise AnalysisError(f"{path}: not a keypoint sequence: {where}: {first['msg']}") from None
    analyzer = FrameAnalyzer(pose=None, exercise=exercise)
    events: list[Event] = []
    t = 0.0
    for index, frame in enumerate(sequence.frames):
        if frame.t is not None:
            t = frame.t
        elif sequence.fps:
            t = index / sequence.fps
        else:
            raise AnalysisError(f"{path}: frame {index} has no time 't' and the file gives no 'fps'")
        events += analyzer.process_keypoints(_as_array(frame.keypoints), sequence.width, sequence.height, t)
    events += analyzer.finish(t)
    return events, {"frames": len(sequence.frames), "seconds": round(t, 2)}


def analyse_video(path: Path, exercise: str) -> tuple[list[Event], dict[str, Any]]:
    from models.paths import weights_dir
    from models.pose import PoseModelUnavailable, PosePipeline

    try:
        pose = PosePipeline(weights=weights_dir())
    except PoseModelUnavailable as exc:
        raise AnalysisError(str(exc)) from None
    analyzer = FrameAnalyzer(pose, exercise, refiner=pose.refiner)
    events: list[Event] = []
    frames, seen, with_people, t = 0, 0, 0, 0.0
    subjects: set[int] = set()
    try:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            total = stream.frames or None
            for frame in tqdm(container.decode(stream), total=total, desc=path.name, unit="frame", disable=None):
                t = float(frame.time) if frame.time is not None else frames / float(stream.average_rate or 30)
                result = analyzer.process_image(upright_bgr(frame), t)
                events += result.events
                frames += 1
                seen += result.keypoints is not None
                with_people += result.people > 0
                if result.subject is not None:
                    subjects.add(result.subject)
    except (av.error.FFmpegError, IndexError) as exc:
        if frames == 0:
            raise AnalysisError(f"{path}: cannot read video: {exc}") from None
        print(f"warning: {path}: video ends early after {frames} frames ({exc})", file=sys.stderr)
    events += analyzer.finish(t)
    return events, {"frames": frames, "frames_with_people": with_people, "frames_with_subject": seen,
                    "subjects": sorted(subjects), "seconds": round(t, 2)}


def summarise(events: list[Event], info: dict[str, Any], chosen: str = "auto") -> dict[str, Any]:
    """The recorded set as JSON: what was done, each rep with its phases and faults, each set."""
    reps = [e.model_dump(mode="json", exclude={"type"}) for e in events if e.type == "rep_completed"]
    recognised = [e.exercise for e in events if e.type == "exercise_changed"]
    return {
        **info,
        "exercises": recognised if chosen == "auto" else [chosen, *recognised],
        "reps": reps,
        "sets": [e.model_dump(mode="json", exclude={"type"}) for e in events if e.type == "set_completed"],
        "guidance": sorted({e.message for e in events if e.type == "guidance"}),
    }


def _extent(rep: dict[str, Any]) -> str:
    """How far the rep went, in the exercise's own measure: its depth at the turning point, else
    its range; a rep counted on the learned model's progress alone has no angle to show."""
    rom, depth = rep["rom"], rep.get("depth")
    if depth is not None and depth["measure"] in MEASURES:
        m = MEASURES[depth["measure"]]
        return f"{m.label} {m.spoken(depth['value'])} at the turning point"
    if rom["measure"] not in MEASURES:
        spec = EXERCISES.get(rep["exercise"])
        hidden = spec is not None and spec.depth_hidden_from(rep.get("view"))
        return "range not measured from this view" if hidden else "range not measured (joints not clear enough)"
    m = MEASURES[rom["measure"]]
    if rom["unit"] == "fraction of start":
        return f"{m.label} at the turning point {100 * rom['min']:.0f}% of the start"
    return f"{m.label} {m.spoken_range(rom['min'], rom['max'])}"


def render(summary: dict[str, Any]) -> str:
    lines = [f"{summary['frames']} frames, {summary['seconds']} s; exercise: "
             f"{', '.join(summary['exercises']) or 'none recognised'}; {counted(len(summary['reps']), 'rep')}"]
    for rep in summary["reps"]:
        phases = ", ".join(f"{p['phase']} {p['seconds']:.1f}s" for p in rep["phases"])
        faults = ", ".join(rep["faults"]) or "no faults"
        lines.append(f"  rep {rep['rep']} ({rep['exercise']}, set {rep['set']}): {phases}; {_extent(rep)}; "
                     f"tempo {rep['tempo']['eccentric_s']:.1f}/{rep['tempo']['concentric_s']:.1f} s; {faults}")
    for s in summary["sets"]:
        lines.append(f"  set {s['set']} ({s['exercise']}): {counted(s['reps'], 'rep')} in {s['duration_s']:.0f} s; "
                     f"faults {s['faults'] or 'none'}")
    lines += [f"  guidance: {g}" for g in summary["guidance"]]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m realtime.analyze", description=__doc__.splitlines()[0])
    parser.add_argument("file", type=Path, help="a video file, or a keypoint sequence .json")
    parser.add_argument("--exercise", default="auto", choices=["auto", *sorted(EXERCISES)])
    parser.add_argument("--json", type=Path, help="write the result here as JSON")
    args = parser.parse_args(argv)
    pin_caches()
    if not args.file.is_file():
        print(f"error: no such file: {args.file}", file=sys.stderr)
        return 2
    try:
        if args.file.suffix.lower() == ".json":
            events, info = analyse_sequence(args.file, args.exercise)
        else:
            events, info = analyse_video(args.file, args.exercise)
    except AnalysisError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    summary = summarise(events, info, args.exercise)
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2))
    print(render(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
