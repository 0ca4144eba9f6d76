"""Camera guidance (rate-limited) and plank holds."""

from __future__ import annotations

import numpy as np
import pytest

from coaching.analyzer import AnalyzerOptions, ExerciseAnalyzer
from coaching.events import Event, FaultDetected, Guidance, HoldProgress, PhaseChanged, SetCompleted
from coaching.exercises import EXERCISES
from coaching.guidance import GuidanceGate
from coaching.skeleton import Joint
from tests.coaching_sequences import Sequence, concat, generate, still

pytestmark = pytest.mark.offline  # scripts/test.sh runs it beside another offline test


def feed(exercise: str, frames, width: int = 640, height: int = 480,
         options: AnalyzerOptions | None = None) -> tuple[ExerciseAnalyzer, list[Event]]:
    analyzer = ExerciseAnalyzer(EXERCISES[exercise], options)
    events: list[Event] = []
    for kp, t in frames:
        events += analyzer.update(kp, width, height, t)
    return analyzer, events


def guidance(events: list[Event]) -> list[Guidance]:
    return [e for e in events if isinstance(e, Guidance)]


def test_wrong_view_asks_to_turn_sideways_once_per_interval() -> None:
    seq = generate("squat", reps=8, view="front", seed=1)  # ~25 s
    analyzer, events = feed("squat", seq)
    said = guidance(events)
    assert analyzer.reps == 8  # counted anyway, from hip height
    assert [g.message for g in said] == ["Turn sideways so I can see your depth"] * 2
    assert said[0].reason == "wrong_view" and said[0].t < 2.5
    assert said[1].t - said[0].t >= 20.0


def test_preferred_view_gets_no_guidance() -> None:
    assert not guidance(feed("squat", generate("squat", reps=4, view="side", seed=2))[1])
    assert not guidance(feed("jumping_jack", generate("jumping_jack", reps=6, view="front", seed=2))[1])


def test_feet_out_of_frame() -> None:
    seq = generate("squat", reps=3, view="side", seed=3)
    seq.frames[:, [Joint.LEFT_ANKLE, Joint.RIGHT_ANKLE], 1] += 200.0  # below the bottom edge
    said = guidance(feed("squat", seq)[1])
    assert said and said[0].message == "Step back so I can see your feet" and said[0].reason == "parts_hidden"


def test_nobody_in_view() -> None:
    frames = list(still(2.0, "side", seed=4)) + [(None, 2.0 + i / 30) for i in range(150)]
    said = guidance(feed("squat", frames)[1])
    assert [g.message for g in said] == ["I can't see you. Step into the frame"]
    assert said[0].reason == "not_visible" and said[0].t >= 3.9  # 1 s lost + 1 s confirmed
    # a few visible joints are not a person either
    sparse = np.full((17, 3), np.nan)
    sparse[:3] = [[100, 100, 0.9]] * 3
    said = guidance(feed("squat", [(sparse, i / 30) for i in range(120)])[1])
    assert [g.reason for g in said] == ["not_visible"]


def test_brief_dropouts_say_nothing() -> None:
    frames = [(None if 40 <= i < 55 else kp, t) for i, (kp, t) in enumerate(still(4.0, "side", seed=5))]
    assert not guidance(feed("squat", frames)[1])


def test_gate_rate_limits() -> None:
    gate = GuidanceGate(after_s=1.0, repeat_s=10.0, min_gap_s=3.0)
    said = [(t / 10, m) for t in range(0, 300) if (m := gate.due(["a", "b"], t / 10))]
    assert said[0] == (1.0, "a") and said[1] == (4.0, "b")
    assert all(b[0] - a[0] >= 3.0 for a, b in zip(said, said[1:]))
    a_times = [t for t, m in said if m == "a"]
    assert all(y - x >= 10.0 for x, y in zip(a_times, a_times[1:]))


def _plank(seconds: float, view: str = "side", **kw: object) -> Sequence:
    return generate("plank", reps=0, view=view, lead_in_s=seconds, tail_s=0.0, **kw)  # type: ignore[arg-type]


def test_plank_hold_time() -> None:
    seq = concat(still(3.0, "side", seed=1), _plank(20.0, seed=2), still(3.0, "side", seed=3))
    analyzer, events = feed("plank", seq)
    progress = [e for e in events if isinstance(e, HoldProgress)]
    done = [e for e in events if isinstance(e, SetCompleted)]
    assert [e.seconds for e in progress if e.in_position][:3] == [1.0, 2.0, 3.0]
    assert len(done) == 1 and abs(done[0].hold_s - 20.0) < 0.5 and done[0].reps == 0
    final = [e for e in progress if not e.in_position]
    assert len(final) == 1 and abs(final[0].seconds - 20.0) < 0.5
    assert [e.phase for e in events if isinstance(e, PhaseChanged)] == ["hold", "rest"]
    assert not [e for e in events if isinstance(e, FaultDetected)]


def test_plank_survives_dropped_frames_within_grace() -> None:
    frames = list(concat(_plank(10.0, seed=4), still(2.0, "side", seed=5)))
    frames = [(None if 100 <= i < 115 else kp, t) for i, (kp, t) in enumerate(frames)]  # 0.5 s unseen
    done = [e for e in feed("plank", frames)[1] if isinstance(e, SetCompleted)]
    assert len(done) == 1 and done[0].hold_s > 9.5


def test_plank_sag_and_pike_are_cued_rate_limited() -> None:
    for sag, fault in ((0.12, "hips_sag"), (-0.15, "hips_pike")):
        seq = concat(_plank(14.0, faults={"sag": sag}, seed=6), still(2.0, "side", seed=7))
        events = feed("plank", seq)[1]
        cues = [e for e in events if isinstance(e, FaultDetected)]
        assert {c.fault for c in cues} == {fault}
        assert 2 <= len(cues) <= 3  # once, then at most every 6 s
        done = next(e for e in events if isinstance(e, SetCompleted))
        assert done.faults == {fault: len(cues)}


def test_plank_from_the_front_asks_to_turn() -> None:
    analyzer, events = feed("plank", _plank(8.0, view="front", seed=8))
    assert not [e for e in events if isinstance(e, HoldProgress)]
    assert [g.message for g in guidance(events)] == ["Turn sideways so I can see your body line"]
