"""Rep counts on real people's videos streamed live, against the same frames analysed one by one.

benchmarks/accuracy.py analyses every frame of a clip; a live session analyses the frames the
CPU has time for, after VP8 compression and WebRTC. This plays each real video with a rep count
(WorkoutTracker's push-ups and squats) to the running server from an aiortc client, as a phone
would send it (upright, long side 640 px, 30 fps, encoded on the client before the run, as a
phone encodes on its own chip), with the exercise chosen and/or on "recognise for me". The clip
is led in by 1.5 s of an empty view (the session starting, the exercise chosen) and followed by
1.5 s of its last frame (the person stays in view). The same frames also go through
`FrameAnalyzer` one by one, as the accuracy benchmark does, so the table shows what the live
frame rate costs:

  reps exact / within one / MAE against the label, live and every frame; how often the live
  count equals the every-frame count; the analysed frame rate; on "recognise for me", how
  often the right exercise was announced.

    .venv/bin/python benchmarks/live_reps.py [--modes chosen auto] [--limit N] [--json PATH]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from accuracy import count_figures, pct, table, write_figures  # noqa: E402
from models.health import HealthRegistry  # noqa: E402
from models.paths import pin_caches  # noqa: E402
from realtime.analysis import FrameAnalyzer  # noqa: E402
from realtime.config import load_settings  # noqa: E402
from realtime.model_hub import ModelHub  # noqa: E402
from realtime.server import create_app, start_app  # noqa: E402
from tests.rtc_client import load_phone_frames, play_clip  # noqa: E402
from training.real_data import RealData, real_data_root  # noqa: E402
from training.split import is_held_out  # noqa: E402

FPS = 30.0
LONG_SIDE = 640
STILL_S = 1.5  # an empty view before the clip, its last frame after it
DEFAULT_JSON = Path(__file__).resolve().parent / "results" / "live_reps.json"


def every_frame(hub: ModelHub, frames: list[np.ndarray], exercises: dict[str, str]) -> dict[str, dict[str, Any]]:
    """The frames analysed one by one (the accuracy benchmark's way), in each mode (mode -> exercise
    or "auto"), each frame posed once for all of them."""
    refiner = getattr(hub.pose, "refiner", None)
    analyzers = {mode: FrameAnalyzer(hub.pose, exercise, refiner=refiner) for mode, exercise in exercises.items()}
    events: dict[str, list[Any]] = {mode: [] for mode in exercises}
    for i, image in enumerate(frames):
        people = hub.pose.infer_2d(image)
        for mode, analyzer in analyzers.items():
            events[mode] += analyzer.process_detected(image, people, i / FPS).events
    for mode, analyzer in analyzers.items():
        events[mode] += analyzer.finish(len(frames) / FPS)
    return {mode: {"reps": sum(e.type == "rep_completed" for e in found),
                   "announced": [e.exercise for e in found if e.type == "exercise_changed"]}
            for mode, found in events.items()}


async def streamed(url: str, frames: list[np.ndarray], exercise: str) -> dict[str, Any]:
    """The frames played live to the server; what the client was told."""
    messages, streamed_s = await play_clip(url, frames, None if exercise == "auto" else exercise, FPS)
    events = [m["event"] for m in messages if m["type"] == "event"]
    poses = sum(m["type"] == "pose" for m in messages)
    return {"reps": sum(e["type"] == "rep_completed" for e in events),
            "announced": [e["exercise"] for e in events if e["type"] == "exercise_changed"],
            "analysed_fps": round(poses / streamed_s, 1)}


async def run(modes: list[str], limit: int | None, with_every_frame: bool) -> dict[str, Any]:
    root = real_data_root()
    if root is None:
        raise SystemExit("error: the real development set is not here (../shared/data/real or COACH_REAL_DATA)")
    videos = [v for v in RealData(root).videos("workouttracker") if v.labels.get("rep_count") is not None]
    videos = videos[:limit] if limit else videos
    hub = ModelHub(load_settings(None, data_dir=Path(tempfile.mkdtemp())), HealthRegistry())
    hub.start_loading(("pose", "action"))
    hub.wait_loaded()
    app = create_app(load_settings(None, data_dir=Path(tempfile.mkdtemp())), hub=hub)
    runner, port = await start_app(app)
    url = f"http://127.0.0.1:{port}"
    records = []
    started = time.perf_counter()
    try:
        for n, video in enumerate(videos, 1):
            frames = load_phone_frames(str(video.path), LONG_SIDE, FPS, STILL_S)
            record: dict[str, Any] = {"name": video.name, "exercise": video.exercise, "held_out": is_held_out(video.name),
                                      "reps_true": int(video.labels["rep_count"]), "seconds": round(len(frames) / FPS, 2)}
            exercises = {mode: video.exercise if mode == "chosen" else "auto" for mode in modes}
            one_by_one = await asyncio.to_thread(every_frame, hub, frames, exercises) if with_every_frame else {}
            for mode, exercise in exercises.items():
                record[mode] = {"live": await streamed(url, frames, exercise), "every_frame": one_by_one.get(mode)}
            records.append(record)
            print(f"[{n}/{len(videos)}] {video.name}: label {record['reps_true']}, " + ", ".join(
                f"{m} live {record[m]['live']['reps']}"
                + (f" / every frame {record[m]['every_frame']['reps']}" if with_every_frame else "") for m in modes),
                flush=True)
    finally:
        await runner.cleanup()
        hub.close()
    return {"modes": {mode: mode_figures(records, mode) for mode in modes}, "files": records,
            "meta": {"clips": len(records), "seconds": round(time.perf_counter() - started, 1)}}


def mode_figures(records: list[dict[str, Any]], mode: str) -> dict[str, Any]:
    """One mode's figures: counts against the labels live and on every frame, and against each other."""
    truth = [r["reps_true"] for r in records]
    live = [r[mode]["live"] for r in records]
    every = [r[mode]["every_frame"] for r in records if r[mode]["every_frame"] is not None]
    figures: dict[str, Any] = {
        "live": count_figures([(x["reps"], t) for x, t in zip(live, truth)]),
        "analysed_fps_median": statistics.median(x["analysed_fps"] for x in live) if live else None,
        "every_frame": None, "live_equals_every_frame_pct": None,
    }
    if mode == "auto":
        figures["named_live_pct"] = pct(sum(r["exercise"] in x["announced"] for r, x in zip(records, live)), len(live))
    if len(every) == len(records):
        figures["every_frame"] = count_figures([(x["reps"], t) for x, t in zip(every, truth)])
        figures["live_equals_every_frame_pct"] = pct(sum(a["reps"] == b["reps"] for a, b in zip(live, every)),
                                                     len(records))
        if mode == "auto":
            figures["named_every_frame_pct"] = pct(sum(r["exercise"] in x["announced"]
                                                       for r, x in zip(records, every)), len(every))
    return figures


def print_report(results: dict[str, Any]) -> None:
    print(f"\n{results['meta']['clips']} real videos with rep counts (WorkoutTracker), streamed live at 30 fps"
          " (every frame: the same frames analysed one by one)\n")
    rows = []
    for mode, f in results["modes"].items():
        live, every = f["live"], f["every_frame"] or {}

        def pair(key: str, form: str = "{}%") -> str:
            return form.format(live[key]) + (" / " + form.format(every[key]) if every else "")

        named = f"{f['named_live_pct']}%" + (f" / {f['named_every_frame_pct']}%" if every else "") \
            if mode == "auto" else "-"
        rows.append([mode, pair("exact_pct"), pair("within_1_pct"), pair("mae", "{:.2f}"),
                     f"{f['live_equals_every_frame_pct']}%" if every else "-", f["analysed_fps_median"], named])
    table(["mode", "reps exact, live / every frame", "within one", "MAE", "live count = every-frame count",
           "analysed fps, median", "exercise named, live / every frame"], rows)
    print(f"time: {results['meta']['seconds']:.0f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--modes", nargs="+", choices=["chosen", "auto"], default=["chosen", "auto"])
    parser.add_argument("--limit", type=int, help="at most N clips (quick runs)")
    parser.add_argument("--live-only", action="store_true", help="leave out the every-frame pass")
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON, help=f"write the figures here (default {DEFAULT_JSON})")
    args = parser.parse_args()
    pin_caches()
    results = asyncio.run(run(args.modes, args.limit, not args.live_only))
    print_report(results)
    write_figures(results, args.json)


if __name__ == "__main__":
    main()
