"""Recorded sets: `python -m realtime.analyze` on keypoint files and on real videos."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import av
import pytest

from realtime.analyze import main, render
from tests.coaching_sequences import generate
from tests.media import pose2sim_lunge_video, sports2d_demo_video
from training.real_data import real_data_root

pytestmark = pytest.mark.offline  # scripts/test.sh runs it beside another offline test

REPO = Path(__file__).resolve().parent.parent


def write_sequence(path: Path, sequence, with_time: bool = True) -> Path:  # noqa: ANN001
    frames = []
    for keypoints, t in sequence:
        kp = [[None if math.isnan(v) else float(v) for v in joint] for joint in keypoints]
        frames.append({"t": float(t), "keypoints": kp} if with_time else {"keypoints": kp})
    path.write_text(json.dumps({"width": sequence.width, "height": sequence.height, "fps": 30, "frames": frames}))
    return path


@pytest.mark.parametrize(("exercise", "reps"), [("squat", 6), ("push_up", 4), ("bicep_curl", 5)])
def test_keypoint_file_counts_the_true_reps(tmp_path: Path, exercise: str, reps: int) -> None:
    path = write_sequence(tmp_path / "set.json", generate(exercise, reps=reps, view="side", seed=11))
    out = tmp_path / "result.json"
    assert main([str(path), "--exercise", exercise, "--json", str(out)]) == 0
    result = json.loads(out.read_text())
    assert len(result["reps"]) == reps
    assert result["exercises"] == [exercise]
    first = result["reps"][0]
    assert first["phases"] and first["tempo"]["eccentric_s"] > 0 and "faults" in first


def test_auto_mode_recognises_the_exercise_from_keypoints(tmp_path: Path) -> None:
    path = write_sequence(tmp_path / "set.json", generate("squat", reps=8, view="side", seed=5), with_time=False)
    out = tmp_path / "result.json"
    assert main([str(path), "--json", str(out)]) == 0
    result = json.loads(out.read_text())
    assert result["exercises"] == ["squat"]
    assert len(result["reps"]) >= 5  # the first reps go by while the recogniser makes up its mind


def test_bad_keypoint_files_get_clear_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{"width": 640, "height": 480, "frames": [{"t": 0, "keypoints": [[1, 2]]}]}')
    assert main([str(broken)]) == 1
    assert "17 triples" in capsys.readouterr().err
    garbage = tmp_path / "garbage.json"
    garbage.write_text("{not json")
    assert main([str(garbage)]) == 1
    assert "not a keypoint sequence" in capsys.readouterr().err
    no_time = tmp_path / "no_time.json"
    no_time.write_text('{"width": 640, "height": 480, "frames": [{"keypoints": null}]}')
    assert main([str(no_time)]) == 1
    assert "no time" in capsys.readouterr().err
    assert main([str(tmp_path / "missing.json")]) == 2


def test_nan_and_out_of_range_keypoints_count_nothing(tmp_path: Path) -> None:
    frames = [{"t": i / 30, "keypoints": [[1e9, -1e9, 0.9]] * 8 + [[None, None, 0.0]] * 9} for i in range(90)]
    frames += [{"t": 3 + i / 30, "keypoints": None} for i in range(30)]
    path = tmp_path / "junk.json"
    path.write_text(json.dumps({"width": 640, "height": 480, "frames": frames}))
    out = tmp_path / "result.json"
    assert main([str(path), "--exercise", "squat", "--json", str(out)]) == 0
    assert json.loads(out.read_text())["reps"] == []


def test_real_video_person_found_and_tracked(tmp_path: Path) -> None:
    out = tmp_path / "result.json"
    assert main([str(sports2d_demo_video()), "--json", str(out)]) == 0
    result = json.loads(out.read_text())
    assert result["frames"] > 200
    assert result["frames_with_people"] / result["frames"] > 0.95
    # one coached subject, kept while others cross, held a moment after walking off
    assert result["subjects"] == [1]
    assert result["frames_with_subject"] / result["frames"] > 0.6
    # The coached person jumps about on a box, arms going overhead, feet apart, knees bending: the
    # learned model may take moments of it for jumping jacks or squats, but no set of them is counted.
    assert set(result["exercises"]) <= {"jumping_jack", "squat"}
    assert len(result["reps"]) <= 4


def test_real_lunge_video_and_truncated_file(tmp_path: Path) -> None:
    out = tmp_path / "result.json"
    assert main([str(pose2sim_lunge_video()), "--exercise", "lunge", "--json", str(out)]) == 0
    result = json.loads(out.read_text())
    assert result["frames_with_subject"] / result["frames"] > 0.9
    source = pose2sim_lunge_video().read_bytes()
    truncated = tmp_path / "truncated.mp4"
    truncated.write_bytes(source[: len(source) // 3])
    proc = subprocess.run([sys.executable, "-m", "realtime.analyze", str(truncated)], capture_output=True,
                          text=True, cwd=REPO, timeout=120)
    assert proc.returncode in (0, 1)  # either what was readable, or a clear refusal
    assert "Traceback" not in proc.stderr
    unreadable = tmp_path / "noise.mp4"
    unreadable.write_bytes(b"\x00garbage" * 100)
    assert main([str(unreadable)]) == 1


def test_phone_video_stored_sideways_is_coached_upright(tmp_path: Path) -> None:
    """A phone's recording: the pixels stored sideways and a display matrix to turn them. Read as
    stored, a real person's squats (WorkoutTracker) went unrecognised or were taken for push-ups;
    turned, the result is the upright file's."""
    if real_data_root() is None:
        pytest.skip("the real development set (../shared/data/real) is not on this machine")
    upright = real_data_root() / "videos/workouttracker/squat/squat_24.mp4"
    turned, sideways = tmp_path / "turned.mp4", tmp_path / "sideways.mp4"
    subprocess.run(["ffmpeg", "-loglevel", "error", "-i", str(upright), "-vf", "transpose=2",
                    "-c:v", "libx264", "-pix_fmt", "yuv420p", str(turned)], check=True, timeout=120)
    subprocess.run(["ffmpeg", "-loglevel", "error", "-i", str(turned), "-c", "copy",
                    "-metadata:s:v:0", "rotate=270", str(sideways)], check=True, timeout=120)
    with av.open(str(sideways)) as container:
        frame = next(container.decode(container.streams.video[0]))
        assert (frame.width, frame.height, frame.rotation) == (720, 1280, -90)

    results = []
    for path in (upright, sideways):
        out = tmp_path / f"{path.stem}.json"
        assert main([str(path), "--json", str(out)]) == 0
        results.append(json.loads(out.read_text()))
    straight, turned_result = results
    # The clip's label is 2 squats; how exactly it is counted is benchmarks/accuracy.py's business.
    assert straight["exercises"] == ["squat"] and 1 <= len(straight["reps"]) <= 3
    assert turned_result["exercises"] == straight["exercises"]
    assert len(turned_result["reps"]) == len(straight["reps"])


def test_each_rep_is_shown_in_its_own_measure_and_unit() -> None:
    """A rep's extent reads as a person would say it: degrees for a knee, torso lengths for a
    hand's height, and no number at all for a rep counted on the learned progress alone."""
    def summary(rom: dict, depth: dict | None) -> dict:
        rep = {"rep": 1, "exercise": "squat", "set": 1, "phases": [], "rom": rom, "depth": depth,
               "tempo": {"eccentric_s": 1.0, "concentric_s": 1.0}, "faults": []}
        return {"frames": 30, "seconds": 1.0, "exercises": ["squat"], "reps": [rep], "sets": [], "guidance": []}

    knee = render(summary({"measure": "knee_angle", "min": 84.4, "max": 171.0, "unit": "deg"},
                          {"measure": "knee_angle", "value": 84.4, "unit": "deg"}))
    assert "knee angle 84 degrees at the turning point" in knee
    assert "; 1 rep\n" in knee and "1 reps" not in knee
    hands = render(summary({"measure": "wrist_height", "min": -0.42, "max": 1.18, "unit": "torso lengths"}, None))
    assert "from -0.4 to 1.2 torso lengths" in hands
    learned = render(summary({"measure": "motion_progress", "min": 0.1, "max": 0.9, "unit": "fraction of the rep"},
                             None))
    assert "range not measured" in learned and "0-1" not in learned
