"""Train the exercise recogniser (coaching.recognition) and report its held-out accuracy.

Data:
  * real labelled body keypoints from pose-classification-kit 1.1.5 (MIT; OpenPose BODY25, one
    static pose per sample: squat, push-up low, plank, standing, and 16 other poses that are
    "idle" here), fetched with `pip download` into the models directory;
  * kinematic sequences from tests/coaching_sequences.py (every exercise from many camera angles,
    tempos, form faults, noise levels), whose motion the static poses cannot show.
Held out: the last 20% of every real class (recorded in one go, so neighbours are near-copies and
a random split would flatter) and synthetic sequences with their own seeds.

    python scripts/train_recognizer.py [--out coaching/recognizer_params.npz] [--pck DIR] [--quick]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from coaching.pose_features import frame_features, window_features  # noqa: E402
from coaching.recognition import DEFAULT_PARAMS, IDLE, ExerciseRecognizer, RecognizerModel  # noqa: E402
from coaching.skeleton import JOINT_NAMES  # noqa: E402

PCK = "pose-classification-kit==1.1.5"
BODY25 = ["nose", "neck", "right_shoulder", "right_elbow", "right_wrist", "left_shoulder", "left_elbow",
          "left_wrist", "mid_hip", "right_hip", "right_knee", "right_ankle", "left_hip", "left_knee", "left_ankle",
          "right_eye", "left_eye", "right_ear", "left_ear", "left_bigtoe", "left_smalltoe", "left_heel",
          "right_bigtoe", "right_smalltoe", "right_heel"]
REAL_LABELS = {"Squat": "squat", "PushUp_Low": "push_up", "Plank": "plank", "Stand": IDLE}  # others: idle
EXERCISES = ["squat", "push_up", "lunge", "jumping_jack", "bicep_curl", "shoulder_press", "plank"]
CLASSES = EXERCISES + [IDLE]
WINDOW_S = 1.5
W, H = 640, 480


# ---- real data ------------------------------------------------------------------------------------

def fetch_pck(dest: Path) -> Path:
    """The dataset folder of pose-classification-kit, downloaded once with pip (the registry's client)."""
    body = dest / "pose_classification_kit" / "datasets" / "Body"
    if body.is_dir():
        return body
    dest.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", PCK, "-d", str(dest)], check=True)
    wheel = next(dest.glob("pose_classification_kit-*.whl"))
    with zipfile.ZipFile(wheel) as z:
        z.extractall(dest, [n for n in z.namelist() if "/datasets/Body/" in n])
    return body


def load_real(body_dir: Path) -> dict[str, list[np.ndarray]]:
    """Label → list of (17, 3) COCO keypoints in unit coordinates (y up), in recording order."""
    take = [BODY25.index(n) for n in JOINT_NAMES]
    out: dict[str, list[np.ndarray]] = {}
    for f in sorted(body_dir.glob("*_body.json")):
        data = json.loads(f.read_text())
        name = data["info"]["label"]
        out[name] = [np.stack([np.array(s["x"])[take], np.array(s["y"])[take], np.array(s["a"])[take]], axis=1)
                     for s in data["data"]]
    return out


def real_window(kp: np.ndarray, rng: np.random.Generator, mirror: bool, frames: int = 8) -> np.ndarray:
    """A static pose held for a moment in front of a jittery detector: window features."""
    scale = rng.uniform(250, 450)
    cx, cy = W / 2 + rng.uniform(-60, 60), H / 2 + rng.uniform(-20, 20)
    x = kp[:, 0] * (-1 if mirror else 1)
    pts = np.zeros((frames, 17, 3))
    for i in range(frames):
        pts[i, :, 0] = cx + x * scale + rng.uniform(-2, 2, 17)
        pts[i, :, 1] = cy - kp[:, 1] * scale + rng.uniform(-2, 2, 17)
        pts[i, :, 2] = kp[:, 2]
    pts[:, kp[:, 2] <= 0] = np.nan  # OpenPose's "not found" (0, 0, 0)
    if mirror:
        from coaching.skeleton import FLIP_INDEX
        pts = pts[:, list(FLIP_INDEX)]
    return window_features(frame_features(pts, W, H))


def _centred(kp: np.ndarray) -> np.ndarray:
    """Unit-coordinate pose with its hips at the origin; joints OpenPose missed become NaN."""
    out = kp.copy()
    out[kp[:, 2] <= 0, :2] = np.nan
    hips = out[[11, 12], :2]
    centre = np.nanmean(hips, axis=0) if np.isfinite(hips).any() else np.nanmean(out[:, :2], axis=0)
    out[:, :2] -= centre
    return out


def real_idle_motion(poses: list[np.ndarray], rng: np.random.Generator, seconds: float = 8.0) -> np.ndarray:
    """Moving from one real non-exercise pose to the next (arms up, salute, sitting ...): motion
    that is not an exercise. (T, 17, 3) pixels at 30 fps."""
    seq: list[np.ndarray] = []
    current = _centred(poses[rng.integers(len(poses))])
    mirror = rng.random() < 0.5
    scale, cx, cy = rng.uniform(250, 450), W / 2 + rng.uniform(-60, 60), H / 2 + rng.uniform(-20, 20)
    while len(seq) < seconds * 30:
        nxt = _centred(poses[rng.integers(len(poses))])
        seq += [current] * int(rng.uniform(0.2, 0.8) * 30)
        steps = int(rng.uniform(0.4, 1.2) * 30)
        for i in range(steps):
            a = 0.5 - 0.5 * np.cos(np.pi * (i + 1) / steps)
            mix = current * (1 - a) + nxt * a
            mix[:, 2] = np.minimum(current[:, 2], nxt[:, 2])
            seq.append(mix)
        current = nxt
    pts = np.stack(seq[: int(seconds * 30)])
    out = np.empty_like(pts)
    out[..., 0] = cx + pts[..., 0] * (-scale if mirror else scale) + rng.uniform(-2, 2, pts.shape[:2])
    out[..., 1] = cy - pts[..., 1] * scale + rng.uniform(-2, 2, pts.shape[:2])
    out[..., 2] = pts[..., 2]
    if mirror:
        from coaching.skeleton import FLIP_INDEX
        out = out[:, list(FLIP_INDEX)]
    return out


def sequence_windows(frames: np.ndarray, hop_s: float = 0.25) -> list[np.ndarray]:
    feats = frame_features(frames, W, H)
    n_win = int(round(WINDOW_S * 30))
    return [window_features(feats[end - n_win:end]) for end in range(n_win, len(frames) + 1, int(round(hop_s * 30)))]


def real_sets(real: dict[str, list[np.ndarray]], rng: np.random.Generator, idle_per_class: int = 120,
              idle_motions: int = 40) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """(train X, y), (test X, y): last 20% of each class held out; other poses subsampled as idle,
    plus motion between real idle poses."""
    sets: list[tuple[list, list]] = [([], []), ([], [])]
    idle_pool: list[list[np.ndarray]] = [[], []]
    for name, poses in real.items():
        label = REAL_LABELS.get(name, IDLE)
        cut = int(len(poses) * 0.8)
        for part, chunk in ((0, poses[:cut]), (1, poses[cut:])):
            if REAL_LABELS.get(name, IDLE) == IDLE:
                idle_pool[part] += chunk
            if name not in REAL_LABELS:
                n = idle_per_class if part == 0 else idle_per_class // 4
                chunk = [chunk[i] for i in rng.choice(len(chunk), size=min(n, len(chunk)), replace=False)]
            for kp in chunk:
                for mirror in (False, True):
                    sets[part][0].append(real_window(kp, rng, mirror))
                    sets[part][1].append(label)
    for part, n in ((0, idle_motions), (1, max(2, idle_motions // 4))):
        for _ in range(n):
            windows = sequence_windows(real_idle_motion(idle_pool[part], rng))
            sets[part][0].extend(windows)
            sets[part][1].extend([IDLE] * len(windows))
    return tuple((np.array(x), np.array(y)) for x, y in sets)  # type: ignore[return-value]


# ---- synthetic sequences --------------------------------------------------------------------------

FAULT_CHOICES = {
    "squat": [{}, {"depth": 60}, {"lean": 60}, {"cave": 0.08}, {"heel": 0.04}, {"depth": 80}],
    "push_up": [{}, {"sag": 0.1}, {"sag": -0.12}, {"bottom": 0.42}],
    "lunge": [{}, {"forward": 0.25}, {"cave": 0.08}, {"lean": 25}],
    "bicep_curl": [{}, {"drift": 30}, {"top": 75}],
    "shoulder_press": [{}, {"arch": 15}, {"lockout": 150}],
    "jumping_jack": [{}, {"arms": 120}, {"feet": 0.22}],
    "plank": [{}, {"sag": 0.1}, {"sag": -0.12}],
    "standing": [{}],
    "walk": [{}],
}


def synthetic_sequence(exercise: str, rng: np.random.Generator, seed: int):  # noqa: ANN201 - tests' Sequence
    from tests.coaching_sequences import DEFAULT_TEMPO, generate, walk
    yaw = float(rng.choice([0, 30, -30, 60, -60, 90, -90, 90, -90]))
    if exercise == "walk":
        return walk(rng.uniform(6, 10), yaw=yaw, stride_s=rng.uniform(0.45, 0.7), noise_px=rng.uniform(0.5, 3.0),
                    drop_prob=rng.uniform(0.0, 0.05), seed=seed, scale=195.0 * rng.uniform(0.5, 1.1))
    faults = FAULT_CHOICES[exercise][rng.integers(len(FAULT_CHOICES[exercise]))]
    speed = rng.uniform(0.6, 1.6)
    base = 300.0 if exercise in ("push_up", "plank") else 195.0
    static = exercise in ("plank", "standing")
    return generate(exercise, reps=0 if static else int(rng.integers(2, 5)), yaw=yaw, faults=faults,
                    tempo=tuple(x * speed for x in DEFAULT_TEMPO[exercise]), noise_px=rng.uniform(0.5, 3.0),
                    drop_prob=rng.uniform(0.0, 0.05), seed=seed, scale=base * rng.uniform(0.75, 1.15),
                    lead_in_s=rng.uniform(6, 10) if static else rng.uniform(0.5, 2.0), tail_s=1.0)


def window_label(exercise: str, progress: np.ndarray) -> str:
    """What a window shows: the exercise while moving; a standing pause is idle, a push-up pause a plank."""
    if exercise in ("standing", "walk"):
        return IDLE
    if exercise == "plank" or np.ptp(progress) >= 0.05 or progress.mean() > 0.5:
        return exercise
    return {"push_up": "plank", "shoulder_press": "shoulder_press"}.get(exercise, IDLE)


def synthetic_set(n_per_class: int, seed0: int, hop_s: float = 0.25) -> tuple[np.ndarray, np.ndarray]:
    xs, ys = [], []
    n_win, hop = int(round(WINDOW_S * 30)), int(round(hop_s * 30))
    for k, exercise in enumerate(EXERCISES + ["standing", "walk"]):
        for i in range(n_per_class):
            seed = seed0 + 1000 * k + i
            seq = synthetic_sequence(exercise, np.random.default_rng(seed), seed)
            xs += sequence_windows(seq.frames, hop_s)
            ys += [window_label(exercise, seq.progress[end - n_win:end]) for end in range(n_win, len(seq) + 1, hop)]
    return np.array(xs), np.array(ys)


# ---- training -------------------------------------------------------------------------------------

def fit(x: np.ndarray, y: np.ndarray, seed: int = 0) -> RecognizerModel:
    from sklearn.neural_network import MLPClassifier

    mean = np.nanmean(x, axis=0)
    scale = np.nanstd(x, axis=0)
    scale[~(scale > 1e-6)] = 1.0
    mean = np.nan_to_num(mean)
    z = np.nan_to_num((x - mean) / scale)
    clf = MLPClassifier(hidden_layer_sizes=(64,), alpha=1e-3, max_iter=400, early_stopping=True,
                        validation_fraction=0.1, n_iter_no_change=15, random_state=seed)
    clf.fit(z, y)
    order = [list(clf.classes_).index(c) for c in CLASSES]  # fixed class order in the file
    weights = [w.copy() for w in clf.coefs_]
    biases = [b.copy() for b in clf.intercepts_]
    weights[-1], biases[-1] = weights[-1][:, order], biases[-1][order]
    return RecognizerModel(CLASSES, mean, scale, weights, biases, WINDOW_S)


def accuracy_report(model: RecognizerModel, x: np.ndarray, y: np.ndarray) -> dict[str, object]:
    pred = np.array(model.classes)[model.predict_proba(x).argmax(axis=1)]
    per_class = {c: round(float((pred[y == c] == c).mean()), 3) for c in model.classes if (y == c).any()}
    confusion = {c: {p: int(((y == c) & (pred == p)).sum()) for p in model.classes if ((y == c) & (pred == p)).any()}
                 for c in model.classes if (y == c).any()}
    return {"n": int(len(y)), "accuracy": round(float((pred == y).mean()), 3), "per_class": per_class,
            "confusion": confusion}


def online_sessions(model: RecognizerModel, seed: int = 777) -> dict[str, object]:
    """Mixed held-out sessions: does the online recogniser announce each exercise, and how fast?"""
    from tests.coaching_sequences import concat, generate, still
    rng = np.random.default_rng(seed)
    hits, total, delays, wrong = 0, 0, [], 0
    for s in range(len(EXERCISES)):
        order = list(rng.permutation(EXERCISES))[:3]
        parts, starts, t = [], [], 0.0
        for j, ex in enumerate(order):
            view = "side" if ex not in ("jumping_jack", "shoulder_press") else "front"
            seq = generate(ex, reps=0 if ex == "plank" else 5, view=view, seed=seed + 10 * s + j,
                           lead_in_s=10.0 if ex == "plank" else 1.0)
            parts += [still(2.0, view, seed=seed + 100 + s), seq]
            starts.append(t + 2.0)
            t += 2.0 + seq.times[-1] + 2 / 30
        session = concat(*parts)
        rec = ExerciseRecognizer(model)
        said: list[tuple[float, str]] = []
        for kp, tt in session:
            r = rec.update(kp, session.width, session.height, float(tt))
            if r is not None:
                said.append((float(tt), r.exercise))
        for j, ex in enumerate(order):
            total += 1
            end = starts[j + 1] if j + 1 < len(order) else float("inf")
            got = [tt for tt, e in said if e == ex and starts[j] <= tt < end]
            if got:
                hits += 1
                delays.append(got[0] - starts[j])
        wrong += sum(1 for tt, e in said if not any(e == ex and starts[j] <= tt < (starts[j + 1] if j + 1 < len(order)
                                                                                    else float("inf"))
                                                    for j, ex in enumerate(order)))
    return {"exercises_announced": f"{hits}/{total}", "wrong_announcements": wrong,
            "median_delay_s": round(float(np.median(delays)), 2) if delays else None,
            "max_delay_s": round(float(np.max(delays)), 2) if delays else None}


def train_and_save(path: Path = DEFAULT_PARAMS, pck_dir: Path | None = None, quick: bool = False,
                   seed: int = 0) -> dict[str, object]:
    """Build the data, train, evaluate on held-out data, save the parameters; the report as a dict."""
    t0 = time.perf_counter()
    rng = np.random.default_rng(seed)
    if pck_dir is None:
        from models.paths import weights_dir
        pck_dir = weights_dir() / "datasets" / "pose-classification-kit"
    real = load_real(fetch_pck(pck_dir))
    (xr, yr), (xr_test, yr_test) = real_sets(real, rng)
    n_syn = 6 if quick else 24
    xs, ys = synthetic_set(n_syn, seed0=10_000)
    xs_test, ys_test = synthetic_set(max(2, n_syn // 4), seed0=90_000)
    model = fit(np.concatenate([xr, xs]), np.concatenate([yr, ys]), seed)
    model.save(path)
    report = {
        "train_windows": {"real": int(len(yr)), "synthetic": int(len(ys))},
        "held_out_real": accuracy_report(model, xr_test, yr_test),
        "held_out_synthetic": accuracy_report(model, xs_test, ys_test),
        "online_sessions": online_sessions(model),
        "params_file": str(path), "params_bytes": path.stat().st_size,
        "seconds": round(time.perf_counter() - t0, 1),
    }
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=DEFAULT_PARAMS)
    parser.add_argument("--pck", type=Path, default=None, help="where pose-classification-kit is (or goes)")
    parser.add_argument("--quick", action="store_true", help="fewer synthetic sequences (a smoke run)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    print(json.dumps(train_and_save(args.out, args.pck, args.quick, args.seed), indent=2))


if __name__ == "__main__":
    main()
