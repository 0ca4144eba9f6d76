"""Generated training clips: every exercise the kinematic generator (tests/coaching_sequences.py)
can pose, from any yaw between head-on and profile, at varied tempo, size, noise and with its
form faults; plus walking and standing still as "other". Progress is exact here."""

from __future__ import annotations

import numpy as np
from tqdm import tqdm

from tests.coaching_sequences import ARM_STYLES, DEFAULT_TEMPO, POSES, generate, walk
from training.dataset import OTHER, Clip

# Faults the generator can inject per exercise (tests/coaching_sequences.py pose functions), and
# variations that are not faults, which the real data lacks: curls one arm at a time ("alternate";
# the model, taught only two-arm curls, called them "other" from the side), squats and lunges with
# the arms held other ways ("hold": a bar on the back, hands on the hips ...; taught only the
# generator's arms rising forward, it read a squat as much as a front raise). docs/REAL_PEOPLE.md.
_HELD_ARMS = [{"hold": k} for k in range(1, len(ARM_STYLES) + 1)]
FAULTS: dict[str, list[dict[str, float]]] = {
    "squat": [{}, {"depth": 60}, {"lean": 60}, {"cave": 0.08}, {"heel": 0.04}, {"depth": 80}] + _HELD_ARMS,
    "push_up": [{}, {"sag": 0.1}, {"sag": -0.12}, {"bottom": 0.42}],
    "lunge": [{}, {"forward": 0.25}, {"cave": 0.08}, {"lean": 25}] + _HELD_ARMS[:-1],  # its own arms hang
    "bicep_curl": [{}, {"drift": 30}, {"top": 75}, {"alternate": 1}, {"alternate": 1, "top": 75}],
    "shoulder_press": [{}, {"arch": 15}, {"lockout": 150}],
    "jumping_jack": [{}, {"arms": 120}, {"feet": 0.22}],
    "plank": [{}, {"sag": 0.1}, {"sag": -0.12}],
}
STATIC = {"plank"}


def generated_clips(classes: list[str], per_class: int, seed: int = 0) -> list[Clip]:
    rng = np.random.default_rng(seed + 12345)
    exercises = [c for c in classes if c in POSES]
    clips: list[Clip] = []
    for k, exercise in enumerate(tqdm(exercises + ["standing", "walk"], desc="generating", unit="exercise")):
        for i in range(per_class):
            s = seed * 100000 + 1000 * k + i
            yaw = float(rng.uniform(-100, 100))
            if exercise == "walk":
                seq = walk(rng.uniform(5, 9), yaw=yaw, stride_s=rng.uniform(0.45, 0.7), noise_px=rng.uniform(0.5, 3),
                           drop_prob=rng.uniform(0, 0.05), seed=s, scale=195.0 * rng.uniform(0.5, 1.1))
            else:
                choices = FAULTS.get(exercise, [{}])
                faults = choices[rng.integers(len(choices))]
                speed = rng.uniform(0.6, 1.6)
                static = exercise in STATIC or exercise == "standing"
                seq = generate(exercise, reps=0 if static else int(rng.integers(2, 6)), yaw=yaw, faults=faults,
                               tempo=tuple(x * speed for x in DEFAULT_TEMPO[exercise]),
                               noise_px=rng.uniform(0.5, 3.0), drop_prob=rng.uniform(0.0, 0.05), seed=s,
                               lead_in_s=rng.uniform(4, 8) if static else rng.uniform(0.3, 1.5), tail_s=0.8)
            label = exercise if exercise in classes else OTHER
            progress = np.zeros(len(seq)) if label in (OTHER, "plank") else np.asarray(seq.progress, dtype=float)
            clips.append(Clip(np.asarray(seq.frames, dtype=np.float32), label, progress, "generated"))
    return clips
