"""Several people at once: each session's analysed frame rate, with and without questions, and every answer.

N clients, each in a process of its own (as phones are), stream a real person on camera (the
Sports2D demo video, encoded before the run, as a phone encodes on its own hardware) into one server
with every embedded model. After a quiet stretch, each asks a spoken question (Piper voice),
staggered by `--stagger` seconds, and waits for the answer to play out. Per N: each session's
analysed frames a second in the quiet stretch and while the questions were being answered, the
client-measured voice-to-voice of every question, how many got an answer, and the server's memory.
Spoken cues are off (the first sound heard must be the answer's). Admission by load is off here:
the point is to see how the rate degrades beyond it. The clients share the server's two cores, as
phones would not.

`--soak-s S` runs one count of sessions (`--sessions N`) for S seconds instead, one of them asking
a question every `--window-s`, and prints each window's analysed rate, frame-to-overlay latency,
voice-to-voice and the server's memory, then how they drifted: what a long run leaks or slows.

    .venv/bin/python benchmarks/load.py [--sessions 1 2 4] [--quiet-s 10] [--stagger 2]
    .venv/bin/python benchmarks/load.py --sessions 4 --soak-s 1200 [--window-s 60]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import statistics
import sys
import tempfile
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from voice import PersonProcess, ask, pct, to_mic  # noqa: E402

from models.health import HealthRegistry  # noqa: E402
from models.paths import pin_caches  # noqa: E402
from realtime.config import load_settings  # noqa: E402
from realtime.http_api import CTX, SESSIONS  # noqa: E402
from realtime.model_hub import ModelHub  # noqa: E402
from realtime.server import create_app, start_app  # noqa: E402
from tests.media import sports2d_demo_video  # noqa: E402
from tests.speech import piper_speech  # noqa: E402

QUESTIONS = ["How should I breathe during a squat?", "How many reps did I do?", "Why do my knees cave in?",
             "How long should I rest between sets?"]


def rates(sessions: list, since: dict[str, int], seconds: float) -> list[float]:  # noqa: ANN001
    return [(s.frames_analysed - since[s.id]) / seconds for s in sessions]


async def start_people(n: int, hub: ModelHub, video: str) -> tuple:
    """A server with every model and N client processes streaming `video` into it (cues and
    admission by load off, as above), warmed up for 3 s: (app, its runner, clients, sessions)."""
    settings = load_settings(None, data_dir=Path(tempfile.mkdtemp()),
                             limits={"max_sessions": n, "min_analysed_fps": 0.0})
    app = create_app(settings, hub=hub)
    runner, port = await start_app(app)
    url = f"http://127.0.0.1:{port}"
    people = [PersonProcess(url, video, client_encodes=False) for _ in range(n)]
    ids = [await person.reply() for person in people]
    sessions = [app[SESSIONS].sessions[i] for i in ids]
    for session in sessions:
        session.prefs.cue_verbosity = "off"
    await asyncio.sleep(3.0)  # warm-up, not measured
    return app, runner, people, sessions


async def one_run(n: int, hub: ModelHub, video: str, quiet_s: float, stagger_s: float) -> dict:
    app, runner, people, sessions = await start_people(n, hub, video)

    start = {s.id: s.frames_analysed for s in sessions}
    await asyncio.sleep(quiet_s)
    quiet = rates(sessions, start, quiet_s)

    async def question(k: int) -> dict:
        await asyncio.sleep(k * stagger_s)
        return await ask(people[k], sessions[k], to_mic(piper_speech(QUESTIONS[k % len(QUESTIONS)])))

    start, t0 = {s.id: s.frames_analysed for s in sessions}, time.monotonic()
    answers = await asyncio.gather(*(question(k) for k in range(n)))
    asking = rates(sessions, start, time.monotonic() - t0)
    rss_mb = psutil.Process().memory_info().rss / 2**20
    for person in people:
        await person.call("close")
    await runner.cleanup()
    v2v = [a["client_v2v"] for a in answers]
    return {"n": n, "quiet": quiet, "asking": asking, "v2v": v2v, "answers": answers,
            "answered": sum(1 for a in answers if not a.get("failed") and a["reply"]), "rss_mb": rss_mb}


def overlay_buckets(app) -> dict[float, float]:  # noqa: ANN001
    """Cumulative counts of the server's frame-to-overlay latency histogram, by upper bound (s)."""
    out: dict[float, float] = {}
    for metric in app[CTX].metrics.stage_latency.collect():
        for sample in metric.samples:
            if sample.name.endswith("_bucket") and sample.labels.get("stage") == "frame_to_overlay":
                out[float(sample.labels["le"])] = sample.value
    return out


def quantile(before: dict[float, float], after: dict[float, float], q: float) -> float:
    """The q-quantile (s) of what a cumulative histogram gained between two reads: the upper bound
    of the first bucket that holds it (the buckets are 10-50 ms wide where overlays fall)."""
    bounds = sorted(after)
    gained = [after[b] - before.get(b, 0.0) for b in bounds]
    if not gained or gained[-1] <= 0:
        return float("nan")
    return next(b for b, c in zip(bounds, gained) if c >= q * gained[-1])


async def soak(n: int, hub: ModelHub, video: str, seconds: float, window_s: float) -> list[dict]:
    """N sessions for `seconds`; every window, one of them asks a question. One row per window."""
    app, runner, people, sessions = await start_people(n, hub, video)
    server = psutil.Process()
    rows: list[dict] = []
    t_start = time.monotonic()
    for k in range(max(1, int(seconds // window_s))):
        frames = {s.id: s.frames_analysed for s in sessions}
        hist, t0 = overlay_buckets(app), time.monotonic()
        asker = k % n
        answer = await ask(people[asker], sessions[asker], to_mic(piper_speech(QUESTIONS[k % len(QUESTIONS)])))
        await asyncio.sleep(max(0.0, window_s - (time.monotonic() - t0)))
        elapsed = time.monotonic() - t0
        after = overlay_buckets(app)
        gc.collect()
        rows.append({"minute": (time.monotonic() - t_start) / 60, "fps": rates(sessions, frames, elapsed),
                     "overlay_p50": quantile(hist, after, 0.5), "overlay_p95": quantile(hist, after, 0.95),
                     "v2v": answer["client_v2v"], "answered": not answer.get("failed") and bool(answer["reply"]),
                     "rss_mb": server.memory_info().rss / 2**20, "threads": server.num_threads(),
                     "fds": server.num_fds()})
        row = rows[-1]
        print(f"  {row['minute']:.1f} min: fps {[f'{r:.1f}' for r in row['fps']]}, overlay p95 "
              f"{row['overlay_p95'] * 1000:.0f} ms, voice-to-voice {row['v2v']:.0f} ms, RSS {row['rss_mb']:.0f} MB; "
              f"heard {answer.get('transcript')!r} -> {(answer.get('reply') or '')[:60]!r}",
              flush=True)
    for person in people:
        await person.call("close")
    await runner.cleanup()
    return rows


def print_soak(n: int, rows: list[dict]) -> None:
    print(f"\n{n} sessions, one question a window\n")
    print("| minute | analysed fps each (min / median) | frame-to-overlay p50 / p95 | voice-to-voice (client) "
          "| answered | server RSS | threads | open files |")
    print("|---|---|---|---|---|---|---|---|")
    for row in rows:
        print(f"| {row['minute']:.1f} | {min(row['fps']):.1f} / {statistics.median(row['fps']):.1f} | "
              f"{row['overlay_p50'] * 1000:.0f} / {row['overlay_p95'] * 1000:.0f} ms | {row['v2v']:.0f} ms | "
              f"{'yes' if row['answered'] else 'no'} | {row['rss_mb']:.0f} MB | {row['threads']} | {row['fds']} |")
    if len(rows) >= 3:
        # The first window holds the warm-up's allocations; drift is judged from the second on.
        later = rows[1:]
        minutes = [r["minute"] for r in later]
        slope = statistics.linear_regression(minutes, [r["rss_mb"] for r in later]).slope
        half = rows[len(rows) // 2:]  # past the allocators' and caches' first growth
        late = statistics.linear_regression([r["minute"] for r in half], [r["rss_mb"] for r in half]).slope \
            if len(half) >= 2 else float("nan")
        first, last = later[0], later[-1]
        print(f"\ndrift from minute {first['minute']:.1f} to {last['minute']:.1f}: RSS {first['rss_mb']:.0f} -> "
              f"{last['rss_mb']:.0f} MB ({slope:+.1f} MB a minute, least squares; {late:+.1f} over the second "
              f"half); median fps "
              f"{statistics.median(first['fps']):.1f} -> {statistics.median(last['fps']):.1f}; overlay p95 "
              f"{first['overlay_p95'] * 1000:.0f} -> {last['overlay_p95'] * 1000:.0f} ms; answered "
              f"{sum(r['answered'] for r in rows)} of {len(rows)}")


async def run(args: argparse.Namespace) -> None:
    pin_caches()
    hub = ModelHub(load_settings(None, data_dir=Path(tempfile.mkdtemp())), HealthRegistry())
    hub.start_loading()
    hub.wait_loaded()
    video = str(sports2d_demo_video())
    if args.soak_s:
        n = args.sessions[0]
        rows = await soak(n, hub, video, args.soak_s, args.window_s)
        hub.close()
        print_soak(n, rows)
        return
    rows = []
    for n in args.sessions:
        rows.append(await one_run(n, hub, video, args.quiet_s, args.stagger))
        row = rows[-1]
        print(f"  {n} sessions: quiet {[f'{r:.1f}' for r in row['quiet']]} fps, asking "
              f"{[f'{r:.1f}' for r in row['asking']]} fps, voice-to-voice {[f'{v:.0f}' for v in row['v2v']]} ms",
              flush=True)
        for answer in row["answers"]:
            print(f"    heard {answer['transcript']!r} -> {answer['reply'][:80]!r}")
    hub.close()
    print("\n| sessions | analysed fps each, quiet (min / median) | analysed fps each while questions are answered "
          "(min / median) | voice-to-voice median / max (client) | answered | server RSS |")
    print("|---|---|---|---|---|---|")
    for row in rows:
        print(f"| {row['n']} | {min(row['quiet']):.1f} / {statistics.median(row['quiet']):.1f} | "
              f"{min(row['asking']):.1f} / {statistics.median(row['asking']):.1f} | "
              f"{pct(row['v2v'], 0.5):.0f} / {max(row['v2v']):.0f} ms | {row['answered']} of {row['n']} | "
              f"{row['rss_mb']:.0f} MB |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--quiet-s", type=float, default=10.0)
    parser.add_argument("--stagger", type=float, default=2.0, help="seconds between the people's questions")
    parser.add_argument("--soak-s", type=float, default=0.0,
                        help="run the first --sessions count this long instead, reporting drift")
    parser.add_argument("--window-s", type=float, default=60.0, help="soak: seconds per measured window")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
