"""Counting from the learned model's progress, on a scripted model (fast tier): thresholds that follow
the swing (and, while a set repeats itself, its small swings), no reps from jitter, the lookahead
delay, the last rep at the end of a recording, the reps done before an exercise is recognised, and
the exercise's own thresholds counting the reps a flat progress misses, each rep once."""

from __future__ import annotations

import math

import numpy as np
import pytest

from coaching.analyzer import LEARNED_DRIVER, ExerciseAnalyzer
from coaching.coach import Coach
from coaching.events import ExerciseChanged, RepCompleted
from coaching.exercises import EXERCISES
from coaching.phases import PhaseMachine
from coaching.signal import periodicity
from coaching.spec import MOTION_PROGRESS, PhaseDriver
from tests.coaching_sequences import Sequence, generate, still, walk

pytestmark = pytest.mark.offline  # scripts/test.sh runs it beside another offline test

FPS = 30.0
ADAPTIVE = PhaseDriver(measure=MOTION_PROGRESS, rest=0.35, turn=0.65, hysteresis=0.1, adaptive_s=5.0, min_range=0.25)


def count(values: list[float | None], driver: PhaseDriver = ADAPTIVE, min_rep_s: float = 0.5,
          max_rep_s: float = 12.0) -> int:
    machine = PhaseMachine(driver, min_rep_s, max_rep_s)
    reps = sum(machine.update(v, i / FPS).rep is not None for i, v in enumerate(values))
    return reps + (machine.flush() is not None)


def cycles(n: int, low: float, high: float, period_s: float, rest_s: float = 1.0, noise: float = 0.02,
           seed: int = 0, shallow: float | None = None) -> list[float | None]:
    """n reps of progress at FPS between rest periods; with `shallow`, every other rep turns there
    instead of at `high` (a fast set as the model reads it)."""
    rng = np.random.default_rng(seed)
    t = np.arange(0, rest_s + n * period_s + rest_s, 1 / FPS)
    x = np.clip((t - rest_s) / period_s, 0, n)
    top = high if shallow is None else np.where(np.floor(x) % 2 == 0, high, shallow)
    p = low + (top - low) * (0.5 - 0.5 * np.cos(2 * math.pi * x))
    return list(p + rng.normal(0, noise, len(p)))


@pytest.mark.parametrize(("low", "high", "period"), [(0.05, 0.95, 2.0), (0.55, 0.9, 1.0), (0.2, 0.5, 3.0)],
                         ids=["full", "high-and-small", "low-and-slow"])
def test_adaptive_thresholds_count_every_swing(low: float, high: float, period: float) -> None:
    assert count(cycles(7, low, high, period)) == 7


def test_jitter_and_drift_while_resting_are_no_reps() -> None:
    rng = np.random.default_rng(1)
    t = np.arange(0, 20, 1 / FPS)
    assert count(list(0.3 + 0.08 * np.sin(t / 3) + rng.normal(0, 0.03, len(t)))) == 0


def test_periodicity_finds_the_period_of_a_set_and_none_in_noise() -> None:
    rng = np.random.default_rng(2)
    t = np.sort(rng.uniform(0, 6, 150))  # uneven frames, as a pose model delivers them
    strength, period = periodicity(t, np.sin(2 * math.pi * t / 0.8) + rng.normal(0, 0.1, len(t)), 0.4, 4.0)
    assert strength > 0.8 and period == pytest.approx(0.8, abs=0.07)
    assert periodicity(t, rng.normal(0, 1, len(t)), 0.4, 4.0)[0] < 0.5


def test_a_set_whose_reps_alternate_in_depth_repeats_every_rep() -> None:
    values = np.array(cycles(20, 0.18, 0.65, 0.6, shallow=0.48))
    t = np.arange(len(values)) / FPS
    busy = (t > 1.5) & (t < 7.5)
    assert periodicity(t[busy], values[busy], 0.3, 4.0)[1] == pytest.approx(0.6, abs=0.07)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_fast_set_whose_reps_alternate_in_depth_counts_the_shallow_ones(seed: int) -> None:
    """RepCount-A's 57 push-ups at 0.65 s a rep counted 40 while every second one was missed."""
    values = cycles(20, 0.18, 0.65, 0.6, seed=seed, shallow=0.48)
    # the first reps come before the rhythm is known
    assert 17 <= count(values, LEARNED_DRIVER, min_rep_s=EXERCISES["push_up"].min_rep_s) <= 20


def test_a_fast_set_of_small_regular_swings_is_counted_only_as_a_set() -> None:
    """Real fast push-ups move the learned progress by 0.1-0.15 a rep: counted once they repeat
    (the first two are told from jitter only then); the same swing once, or a resting body's
    jitter, is no rep."""
    fast = cycles(20, 0.5, 0.62, 0.6, noise=0.005)
    assert 18 <= count(fast, LEARNED_DRIVER) <= 20
    assert count(fast, LEARNED_DRIVER.model_copy(update={"periodic_min_range": None})) < 5
    assert count(cycles(1, 0.5, 0.62, 0.6, rest_s=4.0, noise=0.005), LEARNED_DRIVER) == 0
    rng = np.random.default_rng(1)
    t = np.arange(0, 20, 1 / FPS)
    assert count(list(0.3 + 0.08 * np.sin(t / 3) + rng.normal(0, 0.03, len(t))), LEARNED_DRIVER) == 0


@pytest.mark.parametrize("seed", range(3))
def test_the_fastest_jumping_jacks_are_each_counted(seed: int) -> None:
    """RepCount-A has 92 jumping jacks at 0.43 s a rep: a period that short must still be found,
    or the set's rhythm reads as twice as slow and its reps as too short to count."""
    spec = EXERCISES["jumping_jack"]
    assert count(cycles(30, 0.1, 0.9, 0.43, seed=seed), LEARNED_DRIVER, spec.min_rep_s, spec.max_rep_s) >= 29


def test_gaps_in_the_signal_do_not_double_count() -> None:
    values = cycles(5, 0.1, 0.9, 2.0)
    for i in range(100, 110):
        values[i] = None
    assert count(values) == 5


class ScriptedMotion:
    """A MotionModel whose progress is a function of time and whose class is fixed: the real
    Coach, tracker and analyzer run on top of it. `rows`: other classes' progress (the model has a
    row per class), listed before the label's; the label is then the surest class all the same."""

    fps = FPS
    window = 32
    lookahead = 12
    min_confidence = 0.3

    def __init__(self, progress_at: object, label: str = "squat", sure_after_s: float = 0.0,
                 rows: dict[str, object] | None = None) -> None:
        self.rows = {**(rows or {}), label: progress_at}
        self.label = label
        self.sure_after_s = sure_after_s
        self.classes = [*self.rows, "other"]

    def featurise(self, keypoints: np.ndarray) -> np.ndarray:
        return np.ones((len(keypoints), 1), dtype=np.float32)

    def read(self, times: np.ndarray, features: np.ndarray, t: float) -> object:
        sure = t >= self.sure_after_s
        probs = np.zeros(len(self.classes))
        # unsure: not sure of "other" either
        probs[self.classes.index(self.label)], probs[-1] = (0.95, 0.05) if sure else (0.45, 0.55)
        back = t - self.lookahead / self.fps
        ticks = back - (self.window - 1 - np.arange(self.window)) / self.fps
        rows = np.array([[f(u) for u in ticks] for f in self.rows.values()] + [np.zeros(self.window)])
        return type("Out", (), {"probabilities": probs, "progress": rows, "body_frames": self.window})()


def squats_in_step(reps: int, period: float, lead: float, seed: int, tail_s: float = 1.5) -> Sequence:
    """Side-view squats whose body moves as squat_progress(reps, period, lead) says: the scripted
    progress and the knees agree, as the model's progress and a real body do (the squat's own
    thresholds also count reps, beside the progress)."""
    down, turn = 0.45 * period, 0.05 * period
    return generate("squat", reps=reps, view="side", seed=seed, lead_in_s=lead, tail_s=tail_s,
                    tempo=(down, turn, down, turn), tempo_jitter=0.0)


def squat_progress(reps: int, period: float = 2.0, lead: float = 1.0):  # noqa: ANN201 - a closure
    def p(t: float) -> float:
        x = (t - lead) / period
        return 0.05 + 0.9 * (0.5 - 0.5 * math.cos(2 * math.pi * x)) if 0 <= x <= reps else 0.05
    return p


def test_a_rep_ending_in_the_last_frames_still_counts() -> None:
    """Frames reach the analyzer 0.4 s late; at the end of a recording the waiting ones are read."""
    seq = squats_in_step(3, period=2.0, lead=1.0, seed=3, tail_s=0.1)
    coach = Coach("squat", motion=ScriptedMotion(squat_progress(3, period=2.0, lead=1.0)))
    events = [e for kp, t in seq for e in coach.update(kp, seq.width, seq.height, float(t))]
    end = 1.0 + 3 * 2.0
    final = coach.finish(end)
    reps = [e for e in events + final if isinstance(e, RepCompleted)]
    assert len(reps) == 3


def test_reps_before_recognition_are_replayed_once() -> None:
    seq = squats_in_step(5, period=2.4, lead=1.0, seed=4)
    motion = ScriptedMotion(squat_progress(5, period=2.4, lead=1.0), sure_after_s=5.0)
    coach = Coach(motion=motion)
    events = [e for kp, t in seq for e in coach.update(kp, seq.width, seq.height, float(t))]
    events += coach.finish(float(seq.times[-1]))
    changes = [e for e in events if isinstance(e, ExerciseChanged)]
    reps = [e for e in events if isinstance(e, RepCompleted)]
    assert [c.exercise for c in changes] == ["squat"]
    assert [r.rep for r in reps] == [1, 2, 3, 4, 5]
    assert reps[0].t < changes[0].t  # counted from the frames kept before the announcement
    assert coach.facts()["totals"]["squat"]["reps"] == 5


def test_a_long_set_named_late_keeps_its_early_reps() -> None:
    """A steady set the model stays unsure of for 26 s (real squats read 0.5-0.6 throughout are
    named only when they end): every rep since the set began is counted when it is named."""
    seq = squats_in_step(12, period=2.4, lead=1.0, seed=6)
    coach = Coach(motion=ScriptedMotion(squat_progress(12, period=2.4, lead=1.0), sure_after_s=26.0))
    events = [e for kp, t in seq for e in coach.update(kp, seq.width, seq.height, float(t))]
    events += coach.finish(float(seq.times[-1]))
    changes = [e for e in events if isinstance(e, ExerciseChanged)]
    assert [c.exercise for c in changes] == ["squat"] and changes[0].t > 26.0
    assert [r.rep for r in events if isinstance(r, RepCompleted)] == list(range(1, 13))


@pytest.mark.parametrize("exercise", ["squat", "auto"])
def test_the_count_reads_its_own_exercises_progress(exercise: str) -> None:
    """The model gives each exercise its own row of progress. A squatter whose arms rise between
    squats moves a front raise's row twice a squat; the squats count on the squat's row alone.
    Read from the front raise's row, the same set counts twelve."""
    squat, arms = squat_progress(6, period=2.4, lead=1.0), squat_progress(12, period=1.2, lead=1.0)
    seq = squats_in_step(6, period=2.4, lead=1.0, seed=4)
    coach = Coach(exercise, motion=ScriptedMotion(squat, rows={"front_raise": arms}))
    assert reps_of(play(coach, seq.frames, seq.times)) == 6
    misread = Coach(exercise, motion=ScriptedMotion(arms, rows={"front_raise": squat}))
    assert reps_of(play(misread, seq.frames, seq.times)) == 12


def test_progress_that_swings_while_the_body_stands_still_counts_no_rep() -> None:
    """Outside a set's rhythm a rep the learned progress counts must also move the exercise's own
    measure: the same three slow swings count with a squatting body and not with a standing one."""
    progress = squat_progress(3, period=3.0, lead=1.0)
    squats = generate("squat", reps=3, view="side", seed=3, lead_in_s=1.0, tail_s=1.5, tempo=(1.2, 0.1, 1.2, 0.3))
    standing = still(float(squats.times[-1]), "side", seed=5)
    assert reps_of(play(Coach("squat", motion=ScriptedMotion(progress)), squats.frames, squats.times)) == 3
    assert reps_of(play(Coach("squat", motion=ScriptedMotion(progress)), standing.frames, standing.times)) == 0


@pytest.mark.parametrize("seed", [8, 9])
def test_a_rep_whose_way_back_up_hides_the_hands_counts_from_the_start_position(seed: int) -> None:
    """A CPU without VNNI analyses about ten frames a second, and a phone's side view can leave a
    push-up's hands at the frame's edge near the top: the elbow angle is seen in the start position
    and near the bottom only. The swing a rep must show counts from the start position last seen,
    so three slow push-ups count three (from the rep's own frames alone, one or two)."""
    seq = generate("push_up", reps=3, view="side", seed=seed, tempo=(1.2, 0.2, 1.2, 1.0), tempo_jitter=0.0,
                   lead_in_s=1.5)
    assert seq.progress is not None
    frames, times, progress = seq.frames.copy(), seq.times, seq.progress
    near_the_top = (progress < 0.8) & (times > 1.5)
    frames[np.ix_(near_the_top, [9, 10])] = (np.nan, np.nan, 0.0)  # both wrists
    motion = ScriptedMotion(lambda t: 0.05 + 0.9 * float(np.interp(t, times, progress)), label="push_up")
    every_third = slice(None, None, 3)
    assert reps_of(play(Coach("push_up", motion=motion), frames[every_third], times[every_third])) == 3


def test_shallow_reps_the_progress_misses_are_counted_and_called_shallow() -> None:
    """The shipped model reads shallow push-ups (elbows to ~100 degrees) as a plank and its progress
    stays flat: the push-up's own thresholds count them beside it, and its depth rule names them."""
    shallow = generate("push_up", reps=5, view="side", faults={"bottom": 0.45}, seed=23)
    events = play(Coach("push_up", motion=ScriptedMotion(lambda t: 0.03, label="push_up")), shallow.frames, shallow.times)
    reps = [e for e in events if isinstance(e, RepCompleted)]
    assert len(reps) == 5
    assert all(r.faults == ["partial_range"] for r in reps)


def test_a_shallow_rep_still_settling_when_the_recording_ends_is_counted() -> None:
    """The push-up's own thresholds beside a flat progress: their last rep, back at the start but
    not yet settled when the recording stops, counts at `finish` as the progress's would."""
    shallow = generate("push_up", reps=5, view="side", faults={"bottom": 0.45}, seed=23)

    def analyzer_after(frames: int) -> ExerciseAnalyzer:
        analyzer = ExerciseAnalyzer(EXERCISES["push_up"], learned_counting=True)
        for kp, t in zip(shallow.frames[:frames], shallow.times[:frames]):
            analyzer.update(kp, shallow.width, shallow.height, float(t), progress=0.03, exercising=0.9)
        return analyzer

    whole = ExerciseAnalyzer(EXERCISES["push_up"], learned_counting=True)
    closed_at = None  # the frame whose update closed the fifth rep
    for n, (kp, t) in enumerate(zip(shallow.frames, shallow.times)):
        whole.update(kp, shallow.width, shallow.height, float(t), progress=0.03, exercising=0.9)
        if whole.reps == 5 and closed_at is None:
            closed_at = n
    assert closed_at is not None
    cut = analyzer_after(closed_at)
    assert cut.reps == 4
    cut.finish(float(shallow.times[closed_at]))
    assert cut.reps == 5


def test_a_rep_is_counted_once_when_both_counters_close_it() -> None:
    """A steady set whose progress swings only 0.2 a rep: the progress counts it (it repeats
    itself) and so do the push-up's own thresholds (the swing is under the least a rep needs
    otherwise). Whichever closes a rep first counts it; ten reps, not twenty."""
    seq = generate("push_up", reps=10, view="side", seed=25)
    assert seq.progress is not None
    analyzer = ExerciseAnalyzer(EXERCISES["push_up"], learned_counting=True)
    for kp, t, p in zip(seq.frames, seq.times, seq.progress):
        analyzer.update(kp, seq.width, seq.height, float(t), progress=0.3 + 0.2 * float(p), exercising=0.9)
    assert analyzer.reps == 10


# ---- the shipped model on bad input -------------------------------------------------------------

def play(coach: Coach, frames: np.ndarray, times: np.ndarray, width: int = 640, height: int = 480) -> list:
    events = [e for kp, t in zip(frames, times) for e in coach.update(kp, width, height, float(t))]
    return events + coach.finish(float(times[-1]))


def reps_of(events: list) -> int:
    return sum(isinstance(e, RepCompleted) for e in events)


def test_stepping_out_between_reps_neither_resets_nor_doubles_the_count() -> None:
    seq = generate("squat", reps=6, view="side", seed=21, tempo=(1.2, 0.3, 1.0, 2.5))
    frames = seq.frames.copy()
    rest = (seq.progress < 0.02) & (seq.times > 9.0)
    gap = np.flatnonzero(rest)[:40]  # ~1.3 s out of view while standing between reps
    frames[gap] = np.nan
    frames[gap, :, 2] = 0.0
    assert reps_of(play(Coach("squat"), frames, seq.times)) == 6


@pytest.mark.parametrize("exercise", ["squat", "lunge", "jumping_jack"])
def test_walking_and_standing_are_no_reps_with_the_learned_model(exercise: str) -> None:
    """Walking repeats itself too: counting while a movement repeats must still not make steps reps."""
    for seq in (walk(12.0, "side", seed=301), walk(12.0, "front", seed=302),
                still(12.0, "side", noise_px=3.0, drop_prob=0.05, seed=303)):
        assert reps_of(play(Coach(exercise), seq.frames, seq.times, seq.width, seq.height)) == 0


def test_a_mirrored_camera_counts_the_same() -> None:
    seq = generate("push_up", reps=5, view="side", seed=22)
    mirrored = seq.frames.copy()
    mirrored[..., 0] = 640 - mirrored[..., 0]
    assert reps_of(play(Coach("push_up"), mirrored, seq.times)) == 5


@pytest.mark.parametrize("kind", ["low_confidence", "nobody", "garbage"])
def test_what_cannot_be_seen_gives_no_reps_and_says_so(kind: str) -> None:
    seq = generate("squat", reps=4, view="side", seed=23)
    frames = seq.frames.copy()
    if kind == "low_confidence":
        frames[..., 2] = 0.2
    elif kind == "nobody":
        frames[:] = np.nan
    else:
        rng = np.random.default_rng(0)
        frames = np.concatenate([rng.uniform(-5e3, 5e3, frames[..., :2].shape), rng.uniform(0, 1, frames[..., 2:].shape)],
                                axis=-1)
    events = play(Coach("squat"), frames, seq.times)
    if kind != "garbage":
        assert reps_of(events) == 0
        assert any(e.type == "guidance" and e.reason == "not_visible" for e in events)


def test_very_slow_and_very_fast_reps_are_counted() -> None:
    slow = generate("squat", reps=3, view="side", seed=24, tempo=(3.0, 0.8, 3.0, 1.0))
    fast = generate("squat", reps=6, view="side", seed=25, tempo=(0.6, 0.1, 0.6, 0.2))  # 1.5 s a rep
    assert reps_of(play(Coach("squat"), slow.frames, slow.times)) == 3
    assert reps_of(play(Coach("squat"), fast.frames, fast.times)) == 6


def test_choosing_mid_set_keeps_the_last_reps_in_the_old_exercise() -> None:
    """Frames still waiting for their progress belong to the exercise they were done as."""
    seq = squats_in_step(3, period=2.0, lead=1.0, seed=5, tail_s=0.1)
    coach = Coach("squat", motion=ScriptedMotion(squat_progress(3, period=2.0, lead=1.0)))
    events = [e for kp, t in seq for e in coach.update(kp, seq.width, seq.height, float(t))]
    events += coach.choose("lunge", 7.1)
    assert [e.exercise for e in events if isinstance(e, RepCompleted)] == ["squat"] * 3


def test_a_recognition_after_counted_reps_does_not_count_them_again() -> None:
    """A correction (squat counted, then the model settles on another exercise) replays no rep the
    squat analyzer already counted."""
    class Flip(ScriptedMotion):
        def read(self, times: np.ndarray, features: np.ndarray, t: float) -> object:
            out = super().read(times, features, t)
            # (lunge, squat, other): sure of squats, then unsure (squat reps still count), then sure of lunges
            out.probabilities = np.array([0.0, 0.95, 0.05] if t < 4.0 else [0.3, 0.3, 0.4] if t < 9.0
                                         else [0.95, 0.0, 0.05])
            return out

    motion = Flip(squat_progress(5, period=2.0, lead=1.0), rows={"lunge": lambda t: 0.05})
    seq = squats_in_step(5, period=2.0, lead=1.0, seed=6)
    coach = Coach(motion=motion)
    events = [e for kp, t in seq for e in coach.update(kp, seq.width, seq.height, float(t))]
    events += coach.finish(float(seq.times[-1]))
    assert [e.exercise for e in events if isinstance(e, ExerciseChanged)] == ["squat", "lunge"]
    assert sum(isinstance(e, RepCompleted) for e in events) <= 5


def test_odd_clocks_neither_hang_nor_crash() -> None:
    seq = generate("squat", reps=2, view="side", seed=7)
    coach = Coach("squat", motion=ScriptedMotion(squat_progress(2)))
    for kp, t in list(seq)[:60]:
        coach.update(kp, seq.width, seq.height, float(t))
    assert coach.update(seq.frames[60], seq.width, seq.height, float("nan")) == []
    for kp, t in list(seq)[:90]:  # the clock starts again: a new recording on the same coach
        coach.update(kp, seq.width, seq.height, float(t))
    coach.finish(3.0)
