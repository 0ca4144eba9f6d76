"""Rep counts on real people when the camera or the person does what real ones do.

Issue 17's bad input, measured on the real development set: each counted keypoint sequence of a
known exercise (RepCount-A, Countix-Fitness, PushFit MoveNet; held out from the learned model's
training unless --all) goes through the live per-frame pipeline with its exercise chosen, as
recorded and changed in one way at a time:

  mirrored       a selfie camera: x reflected, each joint named for its side by anatomy, as a pose
                 model names a mirrored picture's
  joints lost    a pose model's bad frames: 20% of the joints missing at random, 10% of the frames
                 with nobody found, every joint jittered by 1% of the body's size
  slower         the same reps 1.6 times as slow (the clock stretched)
  faster         the same reps 1.4 times as fast
  away and back  3 s out of view halfway through, then back where the movement was: the rep
                 under way when they left may be lost, no other

A robust coach counts each variant as it counts the recording itself: the figures are how often
the count is unchanged, how often it moves by two or more, and by how much it moves; exact and
MAE against the label come beside them.

    .venv/bin/python benchmarks/robustness.py [--all] [--limit N] [--processes 2] [--json PATH]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from multiprocessing import Pool
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from accuracy import (SEQUENCE_SOURCES, count_figures, known_exercise, pct, run_coach, table,  # noqa: E402
                      write_figures)
from models.action.features import SIDES_SWAPPED  # noqa: E402
from models.paths import pin_caches  # noqa: E402
from training.real_data import KeypointFile, RealData, as_pixels, real_data_root  # noqa: E402
from training.split import is_held_out  # noqa: E402

Frames = list[np.ndarray | None]
Variant = Callable[[np.ndarray, np.ndarray, int, KeypointFile], tuple[Frames, np.ndarray]]
SEED = 0
AWAY_S = 3.0
DEFAULT_JSON = Path(__file__).resolve().parent / "results" / "robustness.json"


def as_recorded(kp: np.ndarray, times: np.ndarray, width: int, kf: KeypointFile) -> tuple[Frames, np.ndarray]:
    return list(kp), times


def mirrored(kp: np.ndarray, times: np.ndarray, width: int, kf: KeypointFile) -> tuple[Frames, np.ndarray]:
    out = kp.copy()
    out[..., 0] = np.where(kp[..., 2] > 0, width - kp[..., 0], 0.0)
    return list(out[:, list(SIDES_SWAPPED)]), times


def joints_lost(kp: np.ndarray, times: np.ndarray, width: int, kf: KeypointFile) -> tuple[Frames, np.ndarray]:
    rng = np.random.default_rng(SEED)
    out = kp.copy()
    seen = kp[..., 2] > 0
    body = seen.sum(axis=1) >= 2
    extent = np.where(seen[body, :, None], kp[body, :, :2], np.nan)
    size = float(np.median(np.nanmax(extent, axis=1) - np.nanmin(extent, axis=1))) if body.any() else 0.0
    out[..., :2] += rng.normal(0.0, 0.01 * size, out[..., :2].shape)
    out[(rng.random(seen.shape) < 0.2) | ~seen] = 0.0
    frames: Frames = list(out)
    for i in np.flatnonzero(rng.random(len(frames)) < 0.1):
        frames[i] = None
    return frames, times


def slower(kp: np.ndarray, times: np.ndarray, width: int, kf: KeypointFile) -> tuple[Frames, np.ndarray]:
    return list(kp), times * 1.6


def faster(kp: np.ndarray, times: np.ndarray, width: int, kf: KeypointFile) -> tuple[Frames, np.ndarray]:
    return list(kp), times / 1.4


def away_and_back(kp: np.ndarray, times: np.ndarray, width: int, kf: KeypointFile) -> tuple[Frames, np.ndarray]:
    cut = len(kp) // 2
    dt = 1.0 / kf.frame_rate
    frames: Frames = [*kp[:cut], *[None] * round(AWAY_S / dt), *kp[cut:]]
    return frames, np.arange(len(frames)) * dt


VARIANTS: dict[str, Variant] = {"as recorded": as_recorded, "mirrored": mirrored, "joints lost": joints_lost,
                                "slower": slower, "faster": faster, "away and back": away_and_back}


def coach_variants(rel: str) -> dict[str, Any]:
    """One file's counts, as recorded and in every variant."""
    kf = RealData().keypoint_file(rel)
    kp, width, height = as_pixels(kf)
    times = np.arange(len(kp)) / kf.frame_rate
    exercise = known_exercise(kf.exercise)
    counts: dict[str, int] = {}
    for name, variant in VARIANTS.items():
        made, clock = variant(kp, times, width, kf)
        frames = [k if k is not None and (k[:, 2] > 0).any() else None for k in made]
        events = run_coach(frames, clock, width, height, exercise)
        counts[name] = sum(e.type == "rep_completed" for e in events)
    return {"file": rel, "source": kf.source, "exercise": exercise, "reps_true": kf.rep_count,
            "held_out": is_held_out(kf.name), "counts": counts}


def _init() -> None:
    pin_caches()


def variant_figures(records: list[dict[str, Any]], name: str) -> dict[str, Any]:
    """How a variant's counts compare with the recording's own and with the labels."""
    rows = [(r["counts"][name], r["counts"]["as recorded"], r["reps_true"]) for r in records]
    moved = [c - base for c, base, _ in rows]
    return {"sets": len(rows), "unchanged_pct": pct(sum(m == 0 for m in moved), len(moved)),
            "moved_2_or_more_pct": pct(sum(abs(m) >= 2 for m in moved), len(moved)),
            "more_pct": pct(sum(m > 0 for m in moved), len(moved)), "fewer_pct": pct(sum(m < 0 for m in moved), len(moved)),
            "mean_change": round(statistics.fmean(moved), 2) if moved else None,
            "mean_abs_change": round(statistics.fmean(abs(m) for m in moved), 2) if moved else None,
            "against_labels": count_figures([(c, t) for c, _, t in rows])}


def run(held_out_only: bool, limit: int | None, processes: int) -> dict[str, Any]:
    root = real_data_root()
    if root is None:
        raise SystemExit("error: the real development set is not here (../shared/data/real or COACH_REAL_DATA)")
    data = RealData(root)
    rels = [kf.rel for source in SEQUENCE_SOURCES for kf in data.keypoint_files(source, "sequence")
            if kf.rep_count is not None and known_exercise(kf.exercise) is not None
            and (is_held_out(kf.name) or not held_out_only)]
    rels = rels[:limit] if limit else rels
    started = time.perf_counter()
    with Pool(processes, initializer=_init) as pool:
        records = pool.map(coach_variants, rels, chunksize=1)
    return {"variants": {name: variant_figures(records, name) for name in VARIANTS},
            "meta": {"held_out_only": held_out_only, "files": len(rels),
                     "seconds": round(time.perf_counter() - started, 1)},
            "files": records}


def print_report(results: dict[str, Any]) -> None:
    meta = results["meta"]
    print(f"{meta['files']} counted real sets ({'held out' if meta['held_out_only'] else 'all'}), exercise chosen\n")
    rows = []
    for name, f in results["variants"].items():
        labels = f["against_labels"]
        rows.append([name, f["sets"], f"{f['unchanged_pct']}%", f"{f['moved_2_or_more_pct']}%",
                     f"{f['more_pct']}% / {f['fewer_pct']}%",
                     f"{f['mean_change']:+.2f}", f"{f['mean_abs_change']:.2f}", f"{labels['exact_pct']}%",
                     f"{labels['mae']:.2f}"])
    table(["variant", "sets", "count as recorded", "moved by 2+", "more / fewer", "mean change", "mean |change|",
           "exact vs label", "MAE vs label"], rows)
    print(f"time: {meta['seconds']:.0f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--all", action="store_true", help="every counted set, not only the held-out ones")
    parser.add_argument("--limit", type=int, help="at most N files (quick runs)")
    parser.add_argument("--processes", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON, help=f"write the figures here (default {DEFAULT_JSON})")
    args = parser.parse_args()
    results = run(not args.all, args.limit, args.processes)
    print_report(results)
    write_figures(results, args.json)


if __name__ == "__main__":
    main()
