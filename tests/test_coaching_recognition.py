"""Exercise recognition: the shipped parameters, online decisions, switching exercise mid-session."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from coaching.coach import Coach
from coaching.events import Event, ExerciseChanged, RepCompleted
from coaching.exercises import EXERCISES
from coaching.pose_features import FRAME_FEATURES, WINDOW_FEATURES, frame_features, window_features
from coaching.recognition import DEFAULT_PARAMS, IDLE, ExerciseRecognizer, RecognizerModel
from tests.coaching_sequences import Sequence, concat, generate, still, walk

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def model() -> RecognizerModel:
    return RecognizerModel.load()


def announcements(seq: Sequence, model: RecognizerModel) -> list[tuple[float, str]]:
    rec = ExerciseRecognizer(model)
    out = []
    for kp, t in seq:
        if (r := rec.update(kp, seq.width, seq.height, float(t))) is not None:
            out.append((float(t), r.exercise))
    return out


def test_shipped_parameters_are_small_and_complete(model: RecognizerModel) -> None:
    assert DEFAULT_PARAMS.stat().st_size < 100_000
    assert set(model.classes) == set(EXERCISES) | {IDLE}
    p = model.predict_proba(np.full((3, len(WINDOW_FEATURES)), np.nan))
    assert p.shape == (3, len(model.classes)) and np.allclose(p.sum(axis=1), 1.0)


# Seeds far from the training script's (10_000+ / 90_000+): sequences the model never saw.
@pytest.mark.parametrize(("exercise", "view"), [
    ("squat", "side"), ("squat", "front"), ("push_up", "side"), ("lunge", "side"), ("lunge", "front"),
    ("jumping_jack", "front"), ("bicep_curl", "side"), ("shoulder_press", "front"), ("plank", "side"),
])
def test_recognises_each_exercise(model: RecognizerModel, exercise: str, view: str) -> None:
    reps = 0 if exercise == "plank" else 5
    seq = generate(exercise, reps=reps, view=view, seed=555, lead_in_s=8.0 if exercise == "plank" else 1.0)
    said = announcements(seq, model)
    assert said and said[0][1] == exercise
    assert said[0][0] < 5.0
    assert {e for _, e in said} == {exercise}


@pytest.mark.parametrize("seq", [still(10.0, "front", seed=556), still(10.0, "side", seed=557),
                                 walk(10.0, "side", seed=558), walk(10.0, "front", seed=559)],
                         ids=["still-front", "still-side", "walk-side", "walk-front"])
def test_standing_and_walking_are_not_exercises(model: RecognizerModel, seq: Sequence) -> None:
    assert announcements(seq, model) == []


def test_no_person_and_garbage_frames(model: RecognizerModel) -> None:
    rec = ExerciseRecognizer(model)
    rng = np.random.default_rng(0)
    for i in range(200):
        kp = None if i % 3 == 0 else np.column_stack([rng.uniform(-1e4, 1e4, 17), rng.uniform(-1e4, 1e4, 17),
                                                      rng.uniform(-1, 2, 17)])
        rec.update(kp, 640, 480, i / 30)
    assert all(np.isfinite(v) for v in rec.last_probabilities.values())
    assert rec.update(None, 640, 480, 100.0) is None


def test_switching_exercise_mid_session_in_auto_mode() -> None:
    coach = Coach()  # auto, with the shipped recogniser
    assert coach.recognizer_error is None
    seq = concat(still(2.0, "side", seed=560), generate("squat", reps=5, view="side", seed=561),
                 still(3.0, "front", seed=562), generate("jumping_jack", reps=10, view="front", seed=563))
    events: list[Event] = []
    for kp, t in seq:
        events += coach.update(kp, seq.width, seq.height, float(t))
    changes = [(e.exercise, e.previous, e.source) for e in events if isinstance(e, ExerciseChanged)]
    assert changes == [("squat", None, "recognizer"), ("jumping_jack", "squat", "recognizer")]
    squats = [e for e in events if isinstance(e, RepCompleted) and e.exercise == "squat"]
    jacks = [e for e in events if isinstance(e, RepCompleted) and e.exercise == "jumping_jack"]
    assert len(squats) >= 4  # the first rep may pass before the recogniser is sure
    assert len(jacks) >= 7
    assert coach.facts()["exercise"] == "jumping_jack"


def test_user_choice_overrides_recognition() -> None:
    coach = Coach("bicep_curl")
    seq = generate("squat", reps=4, view="side", seed=564)
    events = [e for kp, t in seq for e in coach.update(kp, seq.width, seq.height, float(t))]
    assert not [e for e in events if isinstance(e, ExerciseChanged)] and coach.exercise == "bicep_curl"


def test_features_are_mirror_and_scale_invariant() -> None:
    a = generate("squat", reps=1, view="side", noise_px=0, drop_prob=0, seed=1)
    b = generate("squat", reps=1, view="side_left", noise_px=0, drop_prob=0, seed=1, scale=150.0)
    fa, fb = window_features(frame_features(a.frames, 640, 480)), window_features(frame_features(b.frames, 640, 480))
    assert len(fa) == len(WINDOW_FEATURES) == 4 * len(FRAME_FEATURES)
    assert np.nanmax(np.abs(fa - fb)) < 0.05


def test_training_code_round_trip(tmp_path: Path) -> None:
    """The training script's fit/save and the runtime's load agree (tiny data, seconds)."""
    pytest.importorskip("sklearn")
    spec = importlib.util.spec_from_file_location("train_recognizer", ROOT / "scripts" / "train_recognizer.py")
    train = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(train)
    x, y = train.synthetic_set(1, seed0=123)
    m = train.fit(x, y)
    m.save(tmp_path / "p.npz")
    again = RecognizerModel.load(tmp_path / "p.npz")
    assert np.allclose(m.predict_proba(x[:20]), again.predict_proba(x[:20]), atol=1e-4)
    assert (np.array(m.classes)[m.predict_proba(x).argmax(1)] == y).mean() > 0.8
    with pytest.raises(FileNotFoundError):
        RecognizerModel.load(tmp_path / "missing.npz")
