"""Calibrate the form-fault thresholds on the real labelled development set and print what it finds.

    .venv/bin/python scripts/calibrate_faults.py                 # everything (~3 min on 2 cores)
    .venv/bin/python scripts/calibrate_faults.py --part push_up  # or plank, press

The data stays in ../shared/data/real (training.real_data); nothing is copied. Every example goes
through the code a live session runs: `Coach(exercise=...).update(keypoints, width, height, t)` per
frame, then `finish`. While it runs, the rep and hold judges are wrapped to record the frames each
rep or hold window was judged on, so any candidate threshold can then be scored with
coaching.faults' own `rep_value` / `window_value` without running the coach again.

How a threshold is chosen: correct form must stay quiet. For each rule, the loosest threshold on
its grid that fires on at most QUIET_BUDGET of the correct examples of the tuning part is taken
(the most faults found for that false-alarm budget). Figures on the held-out part are reported,
never tuned on.

- Push-up: PushFit clips labelled correct / wrong per clip (wrong = positive), each twice: the
  source's MoveNet keypoints and the video through the shipped pose model (its detections stored by
  training.video_poses; run benchmarks/accuracy.py or scripts/train_skeleton.py first). Tuning
  part: clips `training.split.is_held_out` leaves in; held-out: the others. Clip verdict: any
  FaultDetected for the clip (rule faults and the analyzer's partial-rep cue).
- Plank: Gym-Exercise-Correction single frames labelled C / W, the source's own split (tune on
  train_clean, report on test). Each frame is held still for HOLD_S at 30 fps; wrong = any hold
  fault. The frames are MediaPipe coordinates relative to the image width and height of an
  unknown aspect ratio: the script estimates it from bone-length ratios (side-view plank: upper
  arm vertical, thigh, shin and trunk horizontal; adult proportions) and reports the held-out
  figure at 4:3 and 16:9 too.
- Shoulder press: no real labelled presses here, so generated clean and arched presses
  (tests/coaching_sequences.py) with detector-like jitter and a camera rolled a few degrees show
  whether back_arch stays quiet on clean presses and still finds an arch.
"""

from __future__ import annotations

import argparse
import logging
import math
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import coaching.analyzer  # noqa: E402
import coaching.holds  # noqa: E402
from coaching.coach import Coach  # noqa: E402
from coaching.events import Event, FaultDetected  # noqa: E402
from coaching.exercises import EXERCISES  # noqa: E402
from coaching.faults import FrameMeasures, Verdict, rep_value, window_value  # noqa: E402
from coaching.spec import FaultRule  # noqa: E402
from training.real_data import KeypointFile, RealData, as_pixels, plank_image_aspect, real_data_root  # noqa: E402
from training import video_poses  # noqa: E402
from training.split import is_held_out, video_is_held_out  # noqa: E402

QUIET_BUDGET = 0.03  # a rule may fire on at most this share of the correct tuning examples
HOLD_S = 2.0  # each labelled plank frame is held still this long
HOLD_FPS = 30.0
PLANK_SIZE = 480.0  # pixel height the hip-centred plank frames are drawn at

GRIDS: dict[tuple[str, str], np.ndarray] = {
    ("push_up", "hips_sag"): np.round(np.arange(0.02, 0.0801, 0.005), 3),
    ("push_up", "hips_pike"): np.round(np.arange(-0.03, -0.1201, -0.005), 3),
    ("push_up", "partial_range"): np.arange(85.0, 125.1, 5.0),
    ("plank", "hips_sag"): np.round(np.arange(0.02, 0.1001, 0.005), 3),
    ("plank", "hips_pike"): np.round(np.arange(-0.03, -0.1501, -0.005), 3),
}


# ---- running the coach and recording what was judged -------------------------------------------------


Judge = Callable[[Sequence[FaultRule], Sequence[FrameMeasures], dict[str, float]], list[Verdict]]


@dataclass
class Judged:
    """One call of a judge: the frames a rep or hold window was judged on, with the rest baselines."""

    frames: list[FrameMeasures]
    baselines: dict[str, float]


@contextmanager
def recording() -> Iterator[list[Judged]]:
    """Record every rep and hold window the coach judges (the judges themselves are unchanged)."""
    calls: list[Judged] = []
    rep_judge, window_judge = coaching.analyzer.judge_rep, coaching.holds.judge_window

    def wrap(judge: Judge) -> Judge:
        def recorded(rules: Sequence[FaultRule], frames: Sequence[FrameMeasures],
                     baselines: dict[str, float]) -> list[Verdict]:
            calls.append(Judged(list(frames), dict(baselines)))
            return judge(rules, frames, baselines)
        return recorded

    coaching.analyzer.judge_rep, coaching.holds.judge_window = wrap(rep_judge), wrap(window_judge)
    try:
        yield calls
    finally:
        coaching.analyzer.judge_rep, coaching.holds.judge_window = rep_judge, window_judge


def coach_clip(exercise: str, keypoints: Sequence[np.ndarray | None], width: int, height: int,
               fps: float) -> list[Event]:
    """One clip through a fresh coach, frame by frame, as a live session would (None: nobody seen)."""
    coach = Coach(exercise=exercise)
    events: list[Event] = []
    for i, kp in enumerate(keypoints):
        events += coach.update(kp, width, height, i / fps)
    return events + coach.finish(len(keypoints) / fps)


# ---- scoring ----------------------------------------------------------------------------------------


@dataclass
class Example:
    """A labelled clip or held frame: its label, split, the coach's events and what it judged."""

    name: str
    wrong: bool
    held_out: bool
    events: list[Event]
    judged: list[Judged] = field(default_factory=list)

    @property
    def faults(self) -> list[str]:
        return [e.fault for e in self.events if isinstance(e, FaultDetected)]


@dataclass(frozen=True)
class Scores:
    precision: float
    recall: float
    f1: float
    accuracy: float
    flagged_correct: float  # share of the correct examples that got a fault

    def __str__(self) -> str:
        return " ".join(f"{v:4.2f}" for v in (self.precision, self.recall, self.f1, self.accuracy,
                                               self.flagged_correct))


def scores(flags: Sequence[bool], wrong: Sequence[bool]) -> Scores:
    """Precision, recall, F1 with wrong = positive; accuracy; false-alarm share of the correct ones."""
    f, y = np.asarray(flags, bool), np.asarray(wrong, bool)
    tp, fp, fn = int((f & y).sum()), int((f & ~y).sum()), int((~f & y).sum())
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return Scores(p, r, 2 * p * r / (p + r) if p + r else 0.0, float((f == y).mean()) if len(f) else 0.0,
                  fp / max(1, int((~y).sum())))


def rule_fires(rule: FaultRule, example: Example, hold: bool) -> bool:
    """Whether this rule (maybe with another threshold than the spec's) fires on what was judged."""
    value = window_value if hold else rep_value
    return any(v is not None and rule.fires(v) for v in (value(rule, j.frames, j.baselines) for j in example.judged))


def with_threshold(rule: FaultRule, threshold: float) -> FaultRule:
    return rule.model_copy(update={"above" if rule.above is not None else "below": float(threshold)})


def choose_threshold(rule: FaultRule, grid: np.ndarray, tuning: list[Example], hold: bool) -> float:
    """The loosest threshold on the grid (ordered strict to loose) that keeps correct form quiet."""
    correct = [e for e in tuning if not e.wrong]
    chosen = float(grid[0])
    for threshold in grid:
        candidate = with_threshold(rule, threshold)
        alarms = sum(rule_fires(candidate, e, hold) for e in correct) / max(1, len(correct))
        if alarms > QUIET_BUDGET:
            break
        chosen = float(threshold)
    return chosen


def strict_to_loose(rule: FaultRule, grid: np.ndarray) -> np.ndarray:
    """Order a grid from the threshold that fires least to the one that fires most."""
    return np.sort(grid)[::-1] if rule.above is not None else np.sort(grid)


def rule_table(exercise: str, examples: list[Example], hold: bool) -> list[str]:
    """Per rule: the spec's threshold, the calibrated one, and the rule's own scores on both parts."""
    spec = EXERCISES[exercise]
    tuning = [e for e in examples if not e.held_out]
    held = [e for e in examples if e.held_out]
    lines = [f"{'rule':16} {'spec':>8} {'chosen':>8}   tuning P    R   F1  acc  FA  |  held-out P    R   F1  acc  FA"]
    for rule in spec.faults:
        grid = GRIDS.get((exercise, rule.id))
        chosen = choose_threshold(rule, strict_to_loose(rule, grid), tuning, hold) if grid is not None \
            else rule.threshold
        candidate = with_threshold(rule, chosen)
        part = [scores([rule_fires(candidate, e, hold) for e in x], [e.wrong for e in x]) for x in (tuning, held)]
        lines.append(f"{rule.id:16} {rule.threshold:8.3f} {chosen:8.3f}          {part[0]}  |            {part[1]}")
    return lines


def verdict_lines(examples: list[Example]) -> list[str]:
    """The coach's own verdicts (any FaultDetected) as shipped, per part, and what fired."""
    lines = []
    for label, part in (("tuning", [e for e in examples if not e.held_out]),
                        ("held-out", [e for e in examples if e.held_out])):
        s = scores([bool(e.faults) for e in part], [e.wrong for e in part])
        fired: dict[str, list[int]] = {}
        for e in part:
            for fault in set(e.faults):
                fired.setdefault(fault, [0, 0])[0 if e.wrong else 1] += 1
        counts = ", ".join(f"{k} {w}/{c}" for k, (w, c) in sorted(fired.items()))
        lines.append(f"  {label:9} n={len(part):4}  P {s.precision:.2f}  R {s.recall:.2f}  F1 {s.f1:.2f}  "
                     f"accuracy {s.accuracy:.2f}  correct flagged {s.flagged_correct:.2f}   "
                     f"fired (wrong/correct): {counts}")
    return lines


# ---- push-up clips ----------------------------------------------------------------------------------


def push_up_examples(data: RealData, held_out_only: bool = False, videos: bool = True) -> list[Example]:
    """Every PushFit clip through Coach(exercise="push_up") twice: as the source's MoveNet keypoints,
    and as the video through the shipped pose model and the subject tracker (training.video_poses;
    the live convention; videos=False: MoveNet only, for a machine without the stored detections).
    A threshold must keep correct clips quiet under both pose models."""
    out = []
    for kf in data.keypoint_files("pushfit_movenet"):
        held = is_held_out(kf.name)
        if held_out_only and not held:
            continue
        keypoints, width, height = as_pixels(kf)
        with recording() as judged:
            events = coach_clip("push_up", keypoints, width, height, kf.fps or 30.0)
        out.append(Example(f"movenet/{kf.name}", kf.labels["form"] == "wrong", held, events, list(judged)))
    for video in data.videos("pushfit") if videos else []:
        held = video_is_held_out(video.keypoints_twin)
        if held_out_only and not held:
            continue
        detections = video_poses.load(video)
        with recording() as judged:
            events = coach_clip("push_up", video_poses.tracked_keypoints(detections), detections.width,
                                detections.height, video.fps)
        out.append(Example(f"video/{video.name}", video.form == "wrong", held, events, list(judged)))
    return out


def push_up_report(data: RealData) -> list[str]:
    examples = push_up_examples(data)
    side = [e for e in examples if any(f.view == "side" for j in e.judged for f in j.frames)]
    wrong = [e for e in examples if e.wrong]
    lines = ["PUSH-UP (PushFit clips, MoveNet keypoints and videos; wrong = positive; P R F1 accuracy, "
             "FA = share of correct clips flagged)"]
    lines += rule_table("push_up", examples, hold=False)
    for source in ("movenet", "video"):
        lines.append(f"coach verdict, spec as shipped, {source}:")
        lines += verdict_lines([e for e in examples if e.name.startswith(source)])
    lines.append(f"  wrong clips with a rep judged from the side: {sum(e.wrong for e in side)}/{len(wrong)} "
                 f"(the rest: no side view, feet out of the frame, or no rep counted; the coach asks "
                 f"for a better view there instead of guessing)")
    return lines


# ---- plank frames -----------------------------------------------------------------------------------


def plank_examples(kf: KeypointFile, aspect: float, held_out: bool) -> list[Example]:
    """Each labelled frame held still for HOLD_S through one Coach(exercise="plank"), the holds
    parted by a moment unseen so that each is a hold of its own."""
    keypoints, width, height = as_pixels(kf, size=PLANK_SIZE, aspect=aspect)
    coach = Coach(exercise="plank")
    out = []
    t = 0.0
    ticks = int(HOLD_S * HOLD_FPS)
    for i, kp in enumerate(keypoints):
        with recording() as judged:
            events: list[Event] = []
            for k in range(ticks):
                events += coach.update(kp, width, height, t + k / HOLD_FPS)
            t += HOLD_S + 2.0
            events += coach.update(None, width, height, t - 0.5)  # unseen past the hold's grace: it ends
        out.append(Example(f"{kf.name}[{i}]", kf.labels["form"][i] == "W", held_out, events, list(judged[-1:])))
    return out


def plank_report(data: RealData) -> list[str]:
    files = {kf.name: kf for kf in data.keypoint_files("gym_exercise_correction") if kf.exercise == "plank"}
    train, test = files["train_clean"], files["test"]
    aspect = plank_image_aspect(train.frames)
    examples = plank_examples(train, aspect, False) + plank_examples(test, aspect, True)
    lines = [f"PLANK (Gym-Exercise-Correction frames held {HOLD_S:.0f} s; tune on train_clean, held out: test; "
             f"image aspect estimated {aspect:.2f} from bone lengths)"]
    lines += rule_table("plank", examples, hold=True)
    lines.append("coach verdict, spec as shipped:")
    lines += verdict_lines(examples)
    for label, part in (("tuning", [e for e in examples if not e.held_out]),
                        ("held-out", [e for e in examples if e.held_out])):
        seen = [e for e in part if any(f.view == "side" for j in e.judged for f in j.frames)]
        lines.append(f"  {label}: held in position and seen from the side: correct "
                     f"{sum(not e.wrong for e in seen)}/{sum(not e.wrong for e in part)}, "
                     f"wrong {sum(e.wrong for e in seen)}/{sum(e.wrong for e in part)}")
    for name, other in (("4:3", 4 / 3), ("16:9", 16 / 9)):
        held = plank_examples(test, other, True)
        s = scores([bool(e.faults) for e in held], [e.wrong for e in held])
        lines.append(f"  held-out at a {name} image instead: accuracy {s.accuracy:.2f}, F1 {s.f1:.2f}")
    return lines


# ---- shoulder press: back_arch against jitter and camera roll ---------------------------------------------


def roll(frames: np.ndarray, degrees: float, width: int, height: int) -> np.ndarray:
    """The keypoints as a camera rolled by `degrees` about the image centre would see them."""
    a = math.radians(degrees)
    out = frames.copy()
    x, y = frames[..., 0] - width / 2, frames[..., 1] - height / 2
    out[..., 0] = math.cos(a) * x - math.sin(a) * y + width / 2
    out[..., 1] = math.sin(a) * x + math.cos(a) * y + height / 2
    return out


def press_report(seeds: int = 6) -> list[str]:
    from tests.coaching_sequences import generate

    lines = ["SHOULDER PRESS back_arch on generated presses (side views, 3 reps x "
             f"{seeds} seeds each): reps flagged / reps"]
    for arch in (2.0, 18.0):
        for noise in (2.0, 5.0, 8.0):
            for degrees in (0.0, -4.0, 4.0):
                flagged = total = 0
                for seed in range(seeds):
                    seq = generate("shoulder_press", reps=3, view=("side", "side_left")[seed % 2],
                                   faults={"arch": arch}, seed=seed, noise_px=noise, drop_prob=0.03)
                    events = coach_clip("shoulder_press", roll(seq.frames, degrees, seq.width, seq.height),
                                        seq.width, seq.height, 30.0)
                    flagged += sum(1 for e in events if isinstance(e, FaultDetected) and e.fault == "back_arch")
                    total += seq.reps
                lines.append(f"  arch {arch:4.1f} deg  jitter +-{noise:.0f} px  camera roll {degrees:+.0f} deg: "
                             f"{flagged}/{total}")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--part", choices=("push_up", "plank", "press"), action="append",
                        help="what to calibrate (default: all)")
    args = parser.parse_args()
    parts = args.part or ["push_up", "plank", "press"]
    if real_data_root() is None and set(parts) & {"push_up", "plank"}:
        raise SystemExit("the real development set is not here (../shared/data/real or COACH_REAL_DATA)")
    data = RealData() if set(parts) & {"push_up", "plank"} else None
    error = Coach(exercise="push_up").recognizer_error
    print(f"reps counted by {'the angle thresholds: ' + error if error else 'the learned model'}\n")
    logging.getLogger("coaching").setLevel(logging.ERROR)  # said once above, not once per clip
    for part in parts:
        lines = (push_up_report(data) if part == "push_up" else plank_report(data) if part == "plank"
                 else press_report())
        print("\n".join(lines) + "\n", flush=True)


if __name__ == "__main__":
    main()
