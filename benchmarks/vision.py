"""Vision pipeline speed over live WebRTC streams, and rep counting against Ultralytics AIGym.

Part 1 streams the Sports2D demo video (real people, 640x480, 30 fps) from 1..N aiortc clients
into the server with the embedded pose model and prints, per configuration, the mean time of each
stage (decode = frame to BGR array, pose, tracking, refine = the coached person's joints read again
by BlazePose, analysis), the analysed frame rate per stream
and the frame-arrival-to-overlay latency (median, p95).

Part 2 counts reps on keypoint sequences with known counts (the kinematic generator of the tests,
with jitter and dropped joints; no labelled exercise video exists in the registry packages) with our
analyzer and with Ultralytics' AIGym fed the very same keypoints (its own class, with only the
detector replaced), side by side with the true counts.

    .venv/bin/python benchmarks/vision.py [--seconds 15] [--streams 1 2 3] [--skip-live]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
from pathlib import Path
from types import SimpleNamespace

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from coaching.analyzer import ExerciseAnalyzer  # noqa: E402
from coaching.exercises import EXERCISES  # noqa: E402
from models.health import HealthRegistry  # noqa: E402
from models.paths import pin_caches  # noqa: E402
from realtime.config import load_settings  # noqa: E402
from realtime.http_api import CTX  # noqa: E402
from realtime.model_hub import ModelHub  # noqa: E402
from realtime.server import create_app, start_app  # noqa: E402
from tests.coaching_sequences import generate  # noqa: E402
from tests.media import sports2d_demo_video  # noqa: E402
from tests.rtc_client import ArrayVideoTrack, RtcTestClient, load_video_frames  # noqa: E402

STAGES = ("decode", "pose", "tracking", "refine", "analysis")


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))] if values else float("nan")


async def live(streams: int, seconds: float, hub: ModelHub, frames: list[np.ndarray]) -> dict:
    # Admission by load off: this measures what N streams get, which the server would otherwise refuse.
    settings = load_settings(None, data_dir=Path(tempfile.mkdtemp()), limits={"min_analysed_fps": 0.0})
    app = create_app(settings, hub=hub)
    runner, port = await start_app(app)
    url = f"http://127.0.0.1:{port}"
    clients = [RtcTestClient(url, video=ArrayVideoTrack(lambda i, k=k: frames[(i + 37 * k) % len(frames)]))
               for k in range(streams)]
    for client in clients:
        await client.connect()
    await asyncio.sleep(2.0)  # warm-up, not measured
    registry = app[CTX].metrics.registry

    def sample(name: str, stage: str | None = None) -> float:
        labels = {"stage": stage} if stage else None
        return registry.get_sample_value(name, labels) or 0.0

    before = {s: (sample("coach_stage_latency_seconds_sum", s), sample("coach_stage_latency_seconds_count", s))
              for s in STAGES}
    received0 = sample("coach_video_frames_received_total")
    counts0 = [len(c.messages) for c in clients]
    await asyncio.sleep(seconds)
    stage_ms = {}
    for s in STAGES:
        total = sample("coach_stage_latency_seconds_sum", s) - before[s][0]
        count = sample("coach_stage_latency_seconds_count", s) - before[s][1]
        stage_ms[s] = 1000 * total / count if count else float("nan")
    received = sample("coach_video_frames_received_total") - received0
    latencies, analysed = [], []
    for client, n0 in zip(clients, counts0):
        poses = [m for m in client.messages[n0:] if m["type"] == "pose"]
        analysed.append(len(poses) / seconds)
        latencies += [m["latency_ms"] for m in poses]
    for client in clients:
        await client.close()
    await runner.cleanup()
    return {"streams": streams, "stage_ms": stage_ms, "received_fps": received / seconds / streams,
            "analysed_fps": statistics.mean(analysed), "p50": pct(latencies, 0.5), "p95": pct(latencies, 0.95)}


class KeypointAIGym:
    """Ultralytics' AIGym with its detector and tracker replaced by the keypoints we give it."""

    def __init__(self, kpts: list[int], model: str) -> None:
        from models.pose.prepare import ultralytics_importable

        with ultralytics_importable():
            import torch
            from ultralytics.solutions import AIGym

        class Fed(AIGym):
            keypoints = np.zeros((17, 3), np.float32)

            def extract_tracks(self, im0: np.ndarray) -> None:
                self.tracks = SimpleNamespace(keypoints=SimpleNamespace(
                    data=torch.from_numpy(np.nan_to_num(self.keypoints)[None].astype(np.float32))))
                self.boxes, self.clss, self.track_ids, self.confs = [[0, 0, 1, 1]], [0], [1], [1.0]

        self.gym = Fed(model=model, kpts=kpts, show=False, verbose=False)
        self.canvas = np.zeros((480, 640, 3), np.uint8)

    def count(self, sequence) -> int:  # noqa: ANN001 - tests.coaching_sequences.Sequence
        result = None
        last = np.zeros((17, 3), np.float32)
        for keypoints, _ in sequence:
            # A detector always places every joint (a lost one with low confidence, near where it was):
            # dropped joints keep their last position, as YOLO would give them to AIGym.
            seen = ~np.isnan(keypoints[:, 0])
            last[seen] = keypoints[seen]
            self.gym.keypoints = last.copy()
            result = self.gym.process(self.canvas)
        return result.workout_count[0] if result is not None and result.workout_count else 0


# AIGym's joints per exercise (its documented choices: knee for squats, elbow for push-ups and
# pull-ups), near side first; its default thresholds (up 145, down 90 degrees).
AIGYM_JOINTS = {
    "squat": ([12, 14, 16], [11, 13, 15]),
    "lunge": ([12, 14, 16], [11, 13, 15]),
    "push_up": ([6, 8, 10], [5, 7, 9]),
    "bicep_curl": ([6, 8, 10], [5, 7, 9]),
    "shoulder_press": ([6, 8, 10], [5, 7, 9]),
}
CLIPS = [("squat", "side", 5), ("squat", "side", 8), ("squat", "front", 6), ("push_up", "side", 6),
         ("lunge", "side", 4), ("bicep_curl", "side", 7), ("shoulder_press", "front", 5),
         ("jumping_jack", "front", 10)]


def ours(sequence, exercise: str) -> int:  # noqa: ANN001
    analyzer = ExerciseAnalyzer(EXERCISES[exercise])
    reps = 0
    for keypoints, t in sequence:
        reps += sum(1 for e in analyzer.update(keypoints, sequence.width, sequence.height, float(t))
                    if e.type == "rep_completed")
    reps += sum(1 for e in analyzer.finish(float(sequence.times[-1])) if e.type == "rep_completed")
    return reps


def counting_table() -> None:
    from models.pose.prepare import embedded_checkpoint

    model = str(embedded_checkpoint())
    print("\nRep counts on the same keypoints (generated, 30 fps, +-3 px jitter, 5% joints dropped)\n")
    print("| clip | true | ours | AIGym (same keypoints) |\n|---|---|---|---|")
    totals = {"ours": 0, "aigym": 0, "n": 0}
    for exercise, view, reps in CLIPS:
        sequence = generate(exercise, reps=reps, view=view, noise_px=3.0, drop_prob=0.05, seed=reps)
        mine = ours(sequence, exercise)
        if exercise in AIGYM_JOINTS:
            near, far = AIGYM_JOINTS[exercise]
            confidence = sequence.frames[:, :, 2]
            joints = near if np.nanmean(confidence[:, near]) >= np.nanmean(confidence[:, far]) else far
            gym = str(KeypointAIGym(joints, model).count(sequence))
            totals["aigym"] += int(gym) == reps
        else:
            gym = "n/a (no single joint angle)"
        totals["ours"] += mine == reps
        totals["n"] += 1
        print(f"| {exercise} ({view} view) | {reps} | {mine} | {gym} |")
    print(f"\nexact: ours {totals['ours']}/{totals['n']}, AIGym {totals['aigym']}/"
          f"{sum(1 for e, _, _ in CLIPS if e in AIGYM_JOINTS)}")


async def run(args: argparse.Namespace) -> None:
    pin_caches()
    if not args.skip_live:
        hub = ModelHub(load_settings(None, data_dir=Path(tempfile.mkdtemp())), HealthRegistry())
        hub.start_loading(("pose",))
        hub.wait_loaded()
        frames = load_video_frames(str(sports2d_demo_video()), fps=30)
        print(f"live WebRTC streams, Sports2D demo video at 640x480 30 fps, {args.seconds:.0f} s each "
              f"(mean ms per analysed frame)\n")
        print("| streams | decode | pose | tracking | refine | analysis | received fps/stream | analysed fps/stream "
              "| frame-to-overlay p50 | p95 |\n|---|---|---|---|---|---|---|---|---|---|")
        for n in args.streams:
            r = await live(n, args.seconds, hub, frames)
            s = r["stage_ms"]
            print(f"| {n} | {s['decode']:.1f} | {s['pose']:.1f} | {s['tracking']:.2f} | {s['refine']:.1f} "
                  f"| {s['analysis']:.2f} "
                  f"| {r['received_fps']:.1f} | {r['analysed_fps']:.1f} | {r['p50']:.0f} ms | {r['p95']:.0f} ms |",
                  flush=True)
        hub.close()
    counting_table()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--streams", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--skip-live", action="store_true", help="only the counting comparison")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
