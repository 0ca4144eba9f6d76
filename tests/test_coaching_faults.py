"""Form faults: found when injected into the movement, silent when the form is clean."""

from __future__ import annotations

import importlib.util
import sys
from collections import Counter
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from coaching.analyzer import PARTIAL_FAULT, AnalyzerOptions, ExerciseAnalyzer
from coaching.events import Event, FaultDetected, Guidance, RepCompleted
from coaching.exercises import EXERCISES
from coaching.faults import SUSTAINED_SHARE, FrameMeasures, judge_rep, judge_window
from coaching.spec import ExerciseSpec, FaultRule, PhaseDriver
from tests.coaching_sequences import Sequence, generate
from training.real_data import RealData, plank_image_aspect, real_data_root

pytestmark = pytest.mark.offline  # scripts/test.sh runs it beside another offline test

ROOT = Path(__file__).resolve().parent.parent


def analyse(seq: Sequence, exercise: str | None = None) -> tuple[ExerciseAnalyzer, list[Event]]:
    """The sequence through the analyzer of its own exercise, or of `exercise` (walking as a squat)."""
    analyzer = ExerciseAnalyzer(EXERCISES[exercise or seq.exercise])
    events: list[Event] = []
    for kp, t in seq:
        events += analyzer.update(kp, seq.width, seq.height, t)
    return analyzer, events + analyzer.finish(float(seq.times[-1]))


def fault_counts(events: list[Event]) -> Counter[str]:
    return Counter(e.fault for e in events if isinstance(e, FaultDetected))


INJECTED = [
    ("squat", "side", {"depth": 60}, "depth"),
    ("squat", "front", {"cave": 0.1}, "knees_cave"),
    ("squat", "side", {"lean": 62}, "forward_lean"),
    ("squat", "side", {"heel": 0.05}, "heels_rise"),
    ("push_up", "side", {"sag": 0.12}, "hips_sag"),
    ("push_up", "side", {"sag": -0.25}, "hips_pike"),
    ("push_up", "side", {"bottom": 0.45}, "partial_range"),
    ("lunge", "side", {"forward": 0.3}, "knee_past_toes"),
    ("lunge", "front", {"cave": 0.1}, "knee_cave"),
    ("lunge", "side", {"lean": 30}, "torso_lean"),
    ("bicep_curl", "side", {"drift": 35}, "elbow_drift"),
    ("bicep_curl", "side", {"top": 80}, "partial_range"),
    ("shoulder_press", "side", {"arch": 18}, "back_arch"),
    ("shoulder_press", "front", {"lockout": 145}, "partial_lockout"),
    ("jumping_jack", "front", {"arms": 120}, "arms_low"),
    ("jumping_jack", "front", {"feet": 0.2}, "feet_narrow"),
]


@pytest.mark.parametrize(("exercise", "view", "faults", "fault_id"), INJECTED)
def test_injected_fault_is_found_in_every_rep(exercise: str, view: str, faults: dict, fault_id: str) -> None:
    analyzer, events = analyse(generate(exercise, reps=3, view=view, faults=faults, seed=21))
    assert analyzer.reps == 3
    assert fault_counts(events) == Counter({fault_id: 3})
    reps = [e for e in events if isinstance(e, RepCompleted)]
    assert all(r.faults == [fault_id] for r in reps)
    cue = next(e for e in events if isinstance(e, FaultDetected))
    assert cue.cue == EXERCISES[exercise].fault(fault_id).cue and cue.rep == 1
    assert cue.value is not None and cue.threshold is not None


@pytest.mark.parametrize("exercise", [n for n, s in EXERCISES.items() if s.kind == "reps"])
@pytest.mark.parametrize("view", ["side", "front"])
@pytest.mark.parametrize("seed", [31, 32])
def test_clean_form_has_no_faults(exercise: str, view: str, seed: int) -> None:
    analyzer, events = analyse(generate(exercise, reps=4, view=view, seed=seed, noise_px=2.0, drop_prob=0.03))
    assert analyzer.reps == 4
    assert not fault_counts(events)


def test_view_specific_rules_are_skipped_from_the_wrong_view() -> None:
    """Sagging hips can only be judged from the side: seen head-on, the same push-ups raise nothing."""
    side = analyse(generate("push_up", reps=2, view="side", faults={"sag": 0.12}, seed=3))[1]
    front = analyse(generate("push_up", reps=2, view="front", faults={"sag": 0.12}, seed=3))[1]
    assert fault_counts(side)["hips_sag"] == 2
    assert not fault_counts(front)
    caving_side = analyse(generate("squat", reps=2, view="side", faults={"cave": 0.1}, seed=3))[1]
    assert "knees_cave" not in fault_counts(caving_side)


def test_half_movement_gets_a_partial_cue_and_no_rep() -> None:
    """A squat that turns back well before the bottom threshold: not a rep, one 'go deeper' cue each."""
    analyzer, events = analyse(generate("squat", reps=3, view="side", faults={"depth": 15}, seed=4))
    assert analyzer.reps == 0
    partial = [e for e in events if isinstance(e, FaultDetected) and e.fault == PARTIAL_FAULT]
    assert len(partial) == 3 and partial[0].cue == EXERCISES["squat"].partial_cue and partial[0].rep is None


def test_fault_needs_coverage() -> None:
    """A rule whose measure is visible in too few of the rep's frames gives no verdict."""
    spec = ExerciseSpec(
        name="toy", title="Toy",
        drivers=(PhaseDriver(measure="knee_angle", views=("side",), rest=155, turn=120, hysteresis=8),),
        faults=(FaultRule(id="lean", title="lean", measure="torso_lean", aggregate="max", above=-1.0,
                          views=("side",), cue="x", min_coverage=0.9),),
    )
    seq = generate("squat", reps=2, view="side", seed=5, drop_prob=0.0)
    # Shoulders and hips gone for 0.5 s in every second (a lost joint is held only 0.25 s).
    gone = (np.arange(len(seq.frames)) // 15) % 2 == 0
    seq.frames[np.ix_(gone, [5, 6, 11, 12])] = float("nan")
    analyzer = ExerciseAnalyzer(spec)
    events: list[Event] = []
    for kp, t in seq:
        events += analyzer.update(kp, seq.width, seq.height, t)
    assert analyzer.reps == 2 and not fault_counts(events)


def test_spec_validation() -> None:
    with pytest.raises(ValueError):
        FaultRule(id="x", title="x", measure="no_such_measure", aggregate="max", above=1, cue="x")
    with pytest.raises(ValueError):
        FaultRule(id="x", title="x", measure="knee_angle", aggregate="max", above=1, below=0, cue="x")
    with pytest.raises(ValueError):
        PhaseDriver(measure="knee_angle", rest=150, turn=140, hysteresis=8)
    with pytest.raises(ValueError):
        ExerciseSpec(name="x", title="x")  # reps without a driver


@pytest.mark.parametrize("exercise", [n for n, s in EXERCISES.items() if s.kind == "reps"])
@pytest.mark.parametrize("yaw", [20.0, -30.0, 75.0, -70.0])
def test_no_false_faults_when_the_camera_is_a_little_off(exercise: str, yaw: float) -> None:
    """A camera turned a little from square front or side must not invent faults."""
    analyzer, events = analyse(generate(exercise, reps=3, view="front", yaw=yaw, seed=41))
    assert analyzer.reps == 3
    assert not fault_counts(events)


def _calibration() -> ModuleType:
    """scripts/calibrate_faults.py as a module: the real-data figures come from its own code."""
    spec = importlib.util.spec_from_file_location("calibrate_faults", ROOT / "scripts" / "calibrate_faults.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def _rep(values: list[float], measure: str = "hip_sag") -> list[FrameMeasures]:
    return [FrameMeasures(t=i / 30, view="side", values={measure: v}) for i, v in enumerate(values)]


def test_an_excursion_must_be_sustained_a_shortfall_is_judged_on_the_best_moment() -> None:
    """A sag seen on a few frames of a rep is a misplaced joint, not a fault; a rep that touched
    depth for a moment did reach it."""
    sag = FaultRule(id="sag", title="sag", measure="hip_sag", aggregate="max", above=0.05, views=("side",), cue="x")
    short = int(SUSTAINED_SHARE * 60) - 1  # frames beyond the threshold, fewer than the share of 60
    assert not judge_rep([sag], _rep([0.0] * (60 - short) + [0.2] * short), {})
    assert judge_rep([sag], _rep([0.0] * 40 + [0.2] * 20), {})
    depth = FaultRule(id="depth", title="depth", measure="elbow_angle", aggregate="min", above=100,
                      views=("side",), cue="x")
    touched = [150.0] * 54 + [80.0] * 6  # at the bottom for 0.2 s
    assert not judge_rep([depth], _rep(touched, "elbow_angle"), {})
    assert judge_rep([depth], _rep([150.0] * 54 + [110.0] * 6, "elbow_angle"), {})


@pytest.mark.parametrize(("faults", "fault_id"),
                         [({}, None), ({"sag": 0.12}, "hips_sag"), ({"sag": -0.15}, "hips_pike"),
                          ({"sag": -0.35}, "hips_pike")])  # piked so high that the legs slope at 47 degrees
def test_plank_faults_from_the_side(faults: dict, fault_id: str | None) -> None:
    """A straight plank held 8 s stays quiet; sagging or piked hips are cued while held, also a
    pike high enough to take the legs far from lying (real wrong planks: 38-55 degrees)."""
    seq = generate("plank", reps=0, view="side", faults=faults, lead_in_s=8.0, tail_s=0.0, seed=7)
    analyzer, events = analyse(seq)
    assert analyzer.spec.kind == "hold"
    assert set(fault_counts(events)) == ({fault_id} if fault_id else set())


def test_an_unsure_view_calls_only_a_clear_fault() -> None:
    """The plank's hip rules from a three-quarter ("unknown") view: twice the side view's offset."""
    sag = next(r for r in EXERCISES["plank"].faults if r.id == "hips_sag")

    def held(value: float, view: str) -> list[FrameMeasures]:
        return [FrameMeasures(t=i / 30, view=view, values={"hip_sag": value}) for i in range(30)]

    assert judge_window([sag], held(0.06, "side"), {})
    assert not judge_window([sag], held(0.06, "unknown"), {})  # within what a foreshortened line shows
    assert judge_window([sag], held(0.10, "unknown"), {})
    assert not judge_window([sag], held(0.30, "front"), {})  # a view that cannot show it at all
    with pytest.raises(ValueError, match="either sure or unsure"):
        FaultRule(id="x", title="x", measure="hip_sag", aggregate="max", above=0.1, views=("side",),
                  unsure_views=("side",), cue="x")


@pytest.mark.parametrize("exercise", ["push_up", "plank"])
def test_a_view_that_cannot_show_the_faults_asks_for_another_and_never_guesses(exercise: str) -> None:
    """Head-on, sagging hips cannot be judged: the coach asks to turn sideways, rate-limited, and
    cues no hip fault."""
    if exercise == "plank":
        seq = generate("plank", reps=0, view="front", faults={"sag": 0.15}, lead_in_s=50.0, tail_s=0.0, seed=8)
    else:
        seq = generate("push_up", reps=25, view="front", faults={"sag": 0.15}, seed=8)
    analyzer, events = analyse(seq)
    spec = EXERCISES[exercise]
    assert not {"hips_sag", "hips_pike"} & set(fault_counts(events))
    asked = [e for e in events if isinstance(e, Guidance) and e.reason == "wrong_view"]
    assert asked and all(e.message == spec.view_guidance for e in asked)
    repeat = AnalyzerOptions().guidance_repeat_s
    assert len(asked) <= 1 + (seq.times[-1] - seq.times[0]) / repeat
    assert all(b.t - a.t >= repeat for a, b in zip(asked, asked[1:]))


@pytest.mark.parametrize("exercise", sorted(n for n, s in EXERCISES.items() if s.faults))
def test_a_view_no_rule_can_judge_is_not_preferred_and_has_guidance(exercise: str) -> None:
    """An exercise whose faults cannot be judged from a view must say so there rather than stay quiet."""
    spec = EXERCISES[exercise]
    for view in ("side", "front"):
        if not any(view in rule.views for rule in spec.faults):
            assert view not in spec.preferred_views and spec.view_guidance, (exercise, view)


@pytest.mark.parametrize("roll", [-4.0, 0.0, 4.0])
@pytest.mark.parametrize(("arch", "fired"), [(2.0, False), (18.0, True)])
def test_back_arch_holds_against_jitter_and_a_rolled_camera(roll: float, arch: float, fired: bool) -> None:
    """A clean press stays quiet with detector jitter of +-8 px and a camera rolled 4 degrees (the
    lean is taken relative to the rack position); a real arch is still found."""
    rolled = _calibration().roll
    for seed, view in ((51, "side"), (52, "side_left")):
        seq = generate("shoulder_press", reps=3, view=view, faults={"arch": arch}, seed=seed, noise_px=8.0,
                       drop_prob=0.03)
        seq.frames = rolled(seq.frames, roll, seq.width, seq.height)
        analyzer, events = analyse(seq)
        assert analyzer.reps == 3
        assert fault_counts(events)["back_arch"] == (3 if fired else 0)


@pytest.fixture(scope="module")
def real() -> RealData:
    if real_data_root() is None:
        pytest.skip("the real development set (../shared/data/real) is not on this machine")
    return RealData()


# Measured on the held-out part with scripts/calibrate_faults.py: push-up F1 0.33 with correct form
# flagged on 7% (MoveNet keypoints with their letterbox undone; calibrated to keep correct clips
# quiet), plank accuracy 0.73 with 10% flagged. The floors sit a little under, so a change that loses
# real faults, or cues them on correct form, shows here. Far from the 0.85 / 0.9 hoped for: see the
# script's report for what caps them.
PUSH_UP_F1_FLOOR = 0.3
PLANK_ACCURACY_FLOOR = 0.68
PUSH_UP_FLAGGED_CEILING = 0.1
PLANK_FLAGGED_CEILING = 0.2


def test_push_up_form_on_held_out_real_clips(real: RealData) -> None:
    calibration = _calibration()
    clips = calibration.push_up_examples(real, held_out_only=True, videos=False)
    scores = calibration.scores([bool(c.faults) for c in clips], [c.wrong for c in clips])
    assert len(clips) > 50
    assert scores.f1 >= PUSH_UP_F1_FLOOR, scores
    assert scores.flagged_correct <= PUSH_UP_FLAGGED_CEILING, scores


def test_plank_form_on_held_out_real_frames(real: RealData) -> None:
    calibration = _calibration()
    files = {kf.name: kf for kf in real.keypoint_files("gym_exercise_correction") if kf.exercise == "plank"}
    aspect = plank_image_aspect(files["train_clean"].frames)
    assert 4 / 3 - 0.1 <= aspect <= 16 / 9 + 0.1  # a landscape camera, as the source's videos are
    frames = calibration.plank_examples(files["test"], aspect, held_out=True)
    scores = calibration.scores([bool(f.faults) for f in frames], [f.wrong for f in frames])
    assert scores.accuracy >= PLANK_ACCURACY_FLOOR, scores
    assert scores.flagged_correct <= PLANK_FLAGGED_CEILING, scores
