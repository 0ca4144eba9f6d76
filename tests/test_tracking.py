"""Subject tracking and keypoint smoothing on synthetic detections with known ground truth."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from coaching.smoothing import JointHold, KeypointSmoother
from coaching.tracking import SubjectTracker, TrackedSubject, keypoint_similarity

FPS = 30.0

# A standing person in a unit box (x right, y down): COCO-17 order.
STANDING = np.array(
    [
        [0.50, 0.06], [0.53, 0.04], [0.47, 0.04], [0.57, 0.06], [0.43, 0.06],  # face
        [0.68, 0.20], [0.32, 0.20], [0.75, 0.36], [0.25, 0.36], [0.78, 0.50], [0.22, 0.50],  # arms
        [0.62, 0.52], [0.38, 0.52], [0.63, 0.75], [0.37, 0.75], [0.64, 0.97], [0.36, 0.97],  # legs
    ]
)
# Arms stretched forward-up, knees wide: a squat-like pose, clearly different from standing.
SQUATTING = STANDING.copy()
SQUATTING[7:11] = [[0.85, 0.22], [0.15, 0.22], [0.95, 0.12], [0.05, 0.12]]
SQUATTING[13:15] = [[0.90, 0.70], [0.10, 0.70]]


@dataclass
class Detection:
    keypoints: np.ndarray
    box: np.ndarray
    score: float = 0.9


def person(x: float, y: float, w: float, h: float, pose: np.ndarray = STANDING, conf: float = 0.9) -> Detection:
    keypoints = np.empty((17, 3), dtype=np.float32)
    keypoints[:, 0] = x + pose[:, 0] * w
    keypoints[:, 1] = y + pose[:, 1] * h
    keypoints[:, 2] = conf
    return Detection(keypoints=keypoints, box=np.array([x, y, x + w, y + h], dtype=np.float32))


def run(tracker: SubjectTracker, frames: list[list[Detection]], t0: float = 0.0) -> list[TrackedSubject | None]:
    return [tracker.update(dets, t0 + i / FPS, frame_size=(1280, 720)) for i, dets in enumerate(frames)]


def test_first_choice_is_the_large_central_person() -> None:
    tracker = SubjectTracker()
    far_left = person(20, 300, 120, 300)
    centre = person(560, 150, 200, 500)
    small_centre = person(600, 300, 60, 150)
    subject = tracker.update([far_left, small_centre, centre], 0.0, frame_size=(1280, 720))
    assert subject is not None
    np.testing.assert_allclose(subject.box, centre.box)


def test_subject_keeps_its_id_when_a_passer_by_walks_in_front() -> None:
    """A person squats at the centre; someone of the same size walks across in front of them,
    hiding them completely for a few frames (only the walker is detected then)."""
    tracker = SubjectTracker()
    frames = []
    walker_xs = np.linspace(-150, 1300, 60)
    for i, wx in enumerate(walker_xs):
        pose = SQUATTING if (i // 10) % 2 else STANDING
        subject = person(540, 160, 200, 500, pose=pose)
        walker = person(float(wx), 150, 210, 520)
        hidden = abs(wx - 540) < 60  # walker right on top of the subject
        frames.append([walker] if hidden else [subject, walker])
    results = run(tracker, frames)

    first = results[0]
    assert first is not None
    hidden_frames = [i for i, wx in enumerate(walker_xs) if abs(wx - 540) < 60]
    assert hidden_frames, "the scenario must include frames where the subject is fully hidden"
    for i, result in enumerate(results):
        if i in hidden_frames:
            assert result is None, f"frame {i}: the walker was taken for the subject"
        else:
            assert result is not None and result.track_id == first.track_id, f"frame {i}: subject lost"
            assert result.box[0] == pytest.approx(540), f"frame {i}: subject box is the walker's"


def test_two_people_crossing_keep_their_ids() -> None:
    """Subject walks right, the other walks left, the same size and pose, fast (30 px a frame):
    near the crossing the other is closer to where the subject was than the subject is, so only
    the motion model tells them apart."""
    tracker = SubjectTracker()
    frames = []
    for i in range(30):
        a = person(200 + 30 * i, 150, 200, 500)  # the subject, nearer the centre at the start
        b = person(1010 - 30 * i, 150, 200, 500)
        frames.append([b, a])
    results = run(tracker, frames)
    assert all(r is not None for r in results)
    assert len({r.track_id for r in results if r is not None}) == 1
    xs = [float(r.box[0]) for r in results if r is not None]
    np.testing.assert_allclose(xs, [200 + 30 * i for i in range(30)])


def test_a_duplicate_upper_body_box_does_not_steal_the_subject() -> None:
    """YOLO sometimes adds a second, upper-body box inside a person's full box; when later only
    that partial box is found, it is still the subject."""
    tracker = SubjectTracker()
    subject = person(500, 100, 200, 500)
    upper = person(505, 100, 190, 250, conf=0.9)
    upper.score = 0.4
    first = run(tracker, [[subject]] * 3)[-1]
    run(tracker, [[subject, upper]] * 3, t0=3 / FPS)
    partial = tracker.update([upper], 6 / FPS)
    assert first is not None and partial is not None
    assert partial.track_id == first.track_id


def test_a_person_lying_down_boxed_only_in_part_stays_the_subject() -> None:
    """On the floor (push-ups), the pose model boxes the whole body in one frame and only the legs,
    or a box around the whole body and more, in the next: every frame is still the subject, and the
    extra boxes start no track that would later claim them."""
    tracker = SubjectTracker()
    lying = STANDING[:, ::-1]  # the standing pose turned on its side
    whole = person(100, 300, 500, 150, pose=lying)
    larger = person(90, 250, 520, 220, pose=lying)
    legs = person(420, 310, 170, 140, pose=SQUATTING)
    frames = [[whole]] * 3 + [[whole, larger]] * 2 + [[legs]] * 5 + [[larger]] * 3 + [[whole]] * 3
    results = run(tracker, frames)
    assert all(r is not None for r in results)
    assert len({r.track_id for r in results if r is not None}) == 1


def test_someone_else_beside_the_vanished_subject_is_not_taken_for_them() -> None:
    """Only a box nested with the subject's is taken for them: a person standing beside them is not."""
    tracker = SubjectTracker()
    subject = person(300, 100, 200, 500)
    beside = person(600, 120, 180, 460)
    first = run(tracker, [[subject]] * 3)[-1]
    assert first is not None
    assert run(tracker, [[beside]] * 3, t0=3 / FPS) == [None] * 3


def test_keypoint_similarity_prefers_the_same_pose() -> None:
    standing = person(500, 100, 200, 500).keypoints
    squatting = person(500, 100, 200, 500, pose=SQUATTING).keypoints
    area = 200.0 * 500.0
    assert keypoint_similarity(standing, standing, area, 0.3) == pytest.approx(1.0)
    assert keypoint_similarity(standing, squatting, area, 0.3) < 0.8
    unsure = standing.copy()
    unsure[2:, 2] = 0.0
    assert keypoint_similarity(unsure, standing, area, 0.3) is None  # fewer than 3 joints to compare


def test_short_occlusion_keeps_the_id_and_long_absence_reacquires() -> None:
    tracker = SubjectTracker(reacquire_after_s=2.0)
    subject = person(540, 160, 200, 500)
    bystander = person(40, 300, 100, 250)  # small, at the edge: never the first choice

    before = run(tracker, [[subject, bystander]] * 10)
    subject_id = before[-1].track_id  # type: ignore[union-attr]
    # 1 s with only the bystander in view: no subject, and the bystander is not taken instead.
    gap = run(tracker, [[bystander]] * 30, t0=10 / FPS)
    assert all(r is None for r in gap)
    back = run(tracker, [[subject, bystander]] * 5, t0=40 / FPS)
    assert all(r is not None and r.track_id == subject_id for r in back)

    # Gone for 3 s (> 2 s): released; the bystander, the only one left, becomes the subject.
    away = run(tracker, [[bystander]] * 90, t0=45 / FPS)
    assert all(r is None for r in away[:55])
    later = [r for r in away[65:] if r is not None]
    assert later and all(r.track_id != subject_id for r in later)
    np.testing.assert_allclose(later[-1].box, bystander.box)


def test_subject_returning_after_long_absence_gets_a_new_id() -> None:
    tracker = SubjectTracker(reacquire_after_s=1.0)
    subject = person(540, 160, 200, 500)
    first = run(tracker, [[subject]] * 5)[-1]
    run(tracker, [[]] * 45, t0=5 / FPS)  # 1.5 s empty
    again = tracker.update([subject], 50 / FPS)
    assert first is not None and again is not None
    assert again.track_id != first.track_id


def test_joints_not_visible_are_nan_and_visible_ones_are_finite() -> None:
    tracker = SubjectTracker(min_confidence=0.3)
    detection = person(540, 160, 200, 500)
    detection.keypoints[[9, 10, 15], 2] = [0.05, 0.1, 0.0]  # wrists and an ankle unsure
    result = tracker.update([detection], 0.0)
    assert result is not None
    hidden = np.isnan(result.keypoints[:, :2]).any(axis=1)
    assert hidden.tolist() == [i in (9, 10, 15) for i in range(17)]
    np.testing.assert_allclose(result.keypoints[~hidden, :2], detection.keypoints[~hidden, :2])
    np.testing.assert_allclose(result.keypoints[:, 2], detection.keypoints[:, 2])


def test_one_euro_reduces_jitter_of_a_still_joint() -> None:
    rng = np.random.default_rng(0)
    smoother = KeypointSmoother()
    truth = np.tile([[320.0, 240.0]], (17, 1))
    raw, filtered = [], []
    for i in range(150):
        noisy = np.hstack([truth + rng.normal(0, 3.0, truth.shape), np.full((17, 1), 0.9)])
        raw.append(noisy[:, :2])
        filtered.append(smoother(noisy, i / FPS)[:, :2])
    raw_err = np.std(np.array(raw[30:]) - truth)
    filtered_err = np.std(np.array(filtered[30:]) - truth)
    assert filtered_err < 0.4 * raw_err


def test_one_euro_follows_a_fast_move() -> None:
    """A joint sweeping 600 px in 0.5 s stays within a few pixels of the truth (beta lifts the cut-off)."""
    smoother = KeypointSmoother()
    errors = []
    for i in range(60):
        t = i / FPS
        x = 100 + 1200 * min(t, 0.5)
        keypoints = np.tile([[x, 200.0, 0.9]], (17, 1))
        errors.append(abs(smoother(keypoints, t)[0, 0] - x))
    assert max(errors[20:]) < 1.0  # settled once the move is over
    assert max(errors[:15]) < 60.0  # lag while moving (40 px per frame) is about one frame


def test_low_confidence_joint_does_not_drag_and_restarts_after_a_gap() -> None:
    smoother = KeypointSmoother(min_confidence=0.3, max_gap_s=0.5)
    still = np.tile([[100.0, 100.0, 0.9]], (17, 1))
    for i in range(10):
        smoother(still, i / FPS)
    # Joint 0 turns unsure and its raw value jumps far away: output NaN, state untouched.
    wild = still.copy()
    wild[0] = [900.0, 900.0, 0.1]
    out = smoother(wild, 10 / FPS)
    assert np.isnan(out[0, :2]).all()
    out = smoother(still, 11 / FPS)
    np.testing.assert_allclose(out[0, :2], [100.0, 100.0], atol=1e-6)
    # After a gap longer than max_gap_s, a new position is taken as is, not blended from the old one.
    moved = still.copy()
    moved[0, :2] = [400.0, 300.0]
    out = smoother(moved, 11 / FPS + 1.0)
    np.testing.assert_allclose(out[0, :2], [400.0, 300.0])
    # ...while within the gap a jump is smoothed.
    out = smoother(np.vstack([[700.0, 300.0, 0.9], still[1:]]), 11 / FPS + 1.0 + 1 / FPS)
    assert 400.0 < out[0, 0] < 700.0


def test_a_lost_joint_is_held_briefly_but_a_glitch_frame_is_never_held() -> None:
    hold = JointHold(hold_s=0.25)
    body = np.column_stack([300 + np.arange(17) * 4.0, 100 + np.arange(17) * 15.0, np.full(17, 0.9)])
    lost = body.copy()
    lost[9] = (np.nan, np.nan, 0.0)  # a wrist
    glitch = np.column_stack([np.linspace(600, 0, 17), np.linspace(0, 470, 17), np.full(17, 0.9)])
    assert np.allclose(hold(body, 0.0), body)
    assert np.allclose(hold(lost, 0.033), body)  # filled from its last sighting
    assert np.allclose(hold(glitch, 0.067), glitch)  # passed on as it is ...
    after = hold(lost, 0.1)
    assert np.allclose(after[9], body[9])  # ... and not held: the wrist comes from before the glitch
    assert np.isnan(hold(lost, 0.5)[9, 0])  # gone longer than hold_s: missing


def test_joint_hold_forgets_its_sightings_when_the_clock_goes_back() -> None:
    """A new recording fed to the same analyzer starts its clock again: the old recording's joints,
    seen "later" than the new frames, must not fill the new frames' gaps."""
    hold = JointHold(hold_s=0.25)
    body = np.column_stack([300 + np.arange(17) * 4.0, 100 + np.arange(17) * 15.0, np.full(17, 0.9)])
    hold(body, 10.0)
    lost = body.copy()
    lost[9] = (np.nan, np.nan, 0.0)
    assert np.isnan(hold(lost, 0.0)[9, 0])
    assert np.allclose(hold(lost, 0.033)[:9], body[:9])  # and holding goes on from the new sightings


def unsure(detection: Detection, score: float = 0.15) -> Detection:
    return Detection(keypoints=detection.keypoints, box=detection.box, score=score)


def test_an_unsure_detection_continues_the_subject_but_starts_nobody() -> None:
    """A blurred person scores under start_score on some frames (ByteTrack's low-score boxes): those
    keep the subject seen; an unsure box elsewhere never becomes anyone."""
    tracker = SubjectTracker(start_score=0.25)
    subject_box = person(500, 150, 200, 500)
    frames = [[subject_box]] + [[unsure(person(500 + i, 150, 200, 500)), unsure(person(50, 200, 150, 400))]
                                for i in range(1, 10)]
    seen = run(tracker, frames)
    assert all(s is not None for s in seen)
    assert {s.track_id for s in seen if s is not None} == {1}
    assert all(s.score == pytest.approx(0.15) for s in seen[1:] if s is not None)
    assert len(tracker._tracks) == 1  # the unsure box on the left started no track


def test_nobody_is_chosen_from_unsure_detections_alone() -> None:
    tracker = SubjectTracker(start_score=0.25)
    assert all(s is None for s in run(tracker, [[unsure(person(500, 150, 200, 500))]] * 5))
    assert tracker.subject_id is None


def test_a_confident_detection_is_matched_before_an_unsure_one() -> None:
    """A confident box and an unsure one both overlap the subject; the confident one is the subject,
    and the unsure one (a second, partial box) is dropped."""
    tracker = SubjectTracker(start_score=0.25)
    run(tracker, [[person(500, 150, 200, 500)]])
    partial = unsure(person(505, 150, 200, 480), score=0.2)
    subject = tracker.update([partial, person(502, 150, 200, 500)], 1 / FPS, frame_size=(1280, 720))
    assert subject is not None and subject.score == pytest.approx(0.9)


def test_unsure_detections_keep_no_passer_by_alive() -> None:
    """Only the subject is continued on unsure boxes: a second track kept alive on them (often a
    second box on the subject) would later claim the subject's own confident box."""
    tracker = SubjectTracker(start_score=0.25, reacquire_after_s=0.5)
    subject, passer_by = person(500, 150, 200, 500), person(50, 200, 150, 400)
    run(tracker, [[subject, passer_by]] + [[subject, unsure(passer_by)]] * 30)
    assert [tr.track_id for tr in tracker._tracks] == [tracker.subject_id]


def test_unsure_detections_alone_do_not_keep_the_subject() -> None:
    """The subject leaves; a dim box stays where they stood. It continues them for up to
    reacquire_after_s after their last confident sighting, then the person who comes in is coached."""
    tracker = SubjectTracker(start_score=0.25, reacquire_after_s=1.0)
    spot = person(500, 150, 200, 500)
    newcomer = person(900, 150, 200, 500)
    seen = run(tracker, [[spot]] + [[unsure(spot)]] * 45 + [[unsure(spot), newcomer]] * 15)
    assert seen[29] is not None and seen[29].track_id == 1  # still the subject within the second
    last = seen[-1]
    assert last is not None and last.track_id != 1
    np.testing.assert_allclose(last.box, newcomer.box)


def test_a_second_box_on_the_subject_cannot_take_them_from_themselves() -> None:
    """The pose model boxes a person lying on the floor twice (all of them, and part of them with
    some floor), overlapping but neither inside the other, so the second box starts a track of its
    own. On the frames where only that second box is found, it is still the subject (PushFit
    `correct87`, a close-up from a phone, lost its subject on one frame in ten this way)."""
    tracker = SubjectTracker()
    lying = STANDING[:, ::-1]
    whole = person(300, 300, 600, 180, pose=lying)
    part = person(220, 260, 400, 220, pose=SQUATTING)
    frames = [[whole, part]] * 3 + [[part]] * 6 + [[whole]] * 3 + [[part, whole]] * 2 + [[part]] * 3
    results = run(tracker, frames)
    assert all(r is not None for r in results)
    assert len({r.track_id for r in results if r is not None}) == 1
    assert len(tracker._tracks) == 1  # the second box's track was the subject's shadow
