"""Which of the people in view is the one being coached, frame after frame.

Every person in view gets a track, matched frame to frame by box overlap (IoU) and keypoint
similarity (COCO's OKS) against where the track is predicted to be (constant velocity). Keeping
tracks for everyone, not just the subject, is what keeps the subject's id through a crossing:
the passer-by's own track claims the passer-by. The subject is chosen once (largest and most
central person), kept while it is seen or hidden briefly, and released after `reacquire_after_s`
unseen, when the best person then in view becomes the new subject under a new id.

A person the pose model is unsure of (a score under `start_score`) starts no track, but may continue
the subject's (ByteTrack's second association, Zhang et al. 2022, kept to the one person coached): a
small, dim or blurred person, as in a phone's 320x240 clip, scores 0.1-0.25 on many frames between
confident ones, and a track that only confident detections feed loses the person on those frames.

The pose model often boxes one person twice, worst on a body lying on the floor or filling a small
frame: a box on part of them beside one on all of them, the two swapping from frame to frame. Each
box can start a track of its own, and the subject's track then loses frame after frame to its twin.
So a track never seen apart from the subject (`_Track.apart`) is taken for a shadow of them: when
the subject finds no detection of its own and such a track's box overlaps theirs, the subject takes
it over (`_reclaim`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from coaching.smoothing import KeypointSmoother

# COCO keypoint sigmas (per-joint localisation spread), as the OKS metric uses them.
_COCO_SIGMAS = np.array(
    [0.26, 0.25, 0.25, 0.35, 0.35, 0.79, 0.79, 0.72, 0.72, 0.62, 0.62, 1.07, 1.07, 0.87, 0.87, 0.89, 0.89]
) / 10.0
_MAX_PREDICTION_S = 0.5  # beyond this, a constant-velocity guess is worse than standing still


class PersonLike(Protocol):
    """What the tracker reads from a detection (models.pose.Person fits; coaching never imports it)."""

    @property
    def keypoints(self) -> np.ndarray:
        """(17, 3) x, y, confidence in frame pixels."""
        ...

    @property
    def box(self) -> np.ndarray:
        """(4,) x1, y1, x2, y2."""
        ...

    @property
    def score(self) -> float: ...


@dataclass(slots=True)
class TrackedSubject:
    """The coached person in this frame.

    keypoints: (17, 3) smoothed x, y and raw confidence; x, y NaN for joints not visible now.
    raw_keypoints: (17, 3) as detected this frame.
    """

    track_id: int
    keypoints: np.ndarray
    raw_keypoints: np.ndarray
    box: np.ndarray
    score: float
    t: float


@dataclass(slots=True)
class _Track:
    track_id: int
    box: np.ndarray
    keypoints: np.ndarray
    velocity: np.ndarray  # px/s of the box centre
    last_seen: float
    last_sure: float  # last matched to a confident detection
    apart: bool = False  # once seen beside the subject, not overlapping them: somebody else


def box_iou(a: np.ndarray, b: np.ndarray) -> float:
    """Intersection over union of two x1, y1, x2, y2 boxes."""
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    if w <= 0 or h <= 0:
        return 0.0
    inter = w * h
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return float(inter / union) if union > 0 else 0.0


def _covered(inner: np.ndarray, outer: np.ndarray, share: float = 0.8) -> bool:
    """Whether at least `share` of `inner`'s area lies inside `outer`."""
    w = min(inner[2], outer[2]) - max(inner[0], outer[0])
    h = min(inner[3], outer[3]) - max(inner[1], outer[1])
    area = (inner[2] - inner[0]) * (inner[3] - inner[1])
    return w > 0 and h > 0 and area > 0 and w * h >= share * area


def _area(box: np.ndarray) -> float:
    return float(max(box[2] - box[0], 0.0) * max(box[3] - box[1], 0.0))


def _nested(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether one box lies mostly inside the other."""
    return _covered(a, b) or _covered(b, a)


_OVERLAP_IOU = 0.3


def _overlapping(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether two boxes could be one person's: overlapping by a third or more, or one inside the other."""
    return box_iou(a, b) >= _OVERLAP_IOU or _nested(a, b)


def keypoint_similarity(a: np.ndarray, b: np.ndarray, area: float, min_confidence: float) -> float | None:
    """OKS between two (17, 3) poses over joints confident in both; None when fewer than 3 are."""
    both = (a[:, 2] >= min_confidence) & (b[:, 2] >= min_confidence)
    if both.sum() < 3 or area <= 0:
        return None
    d2 = ((a[both, :2] - b[both, :2]) ** 2).sum(axis=1)
    k2 = (2.0 * _COCO_SIGMAS[both]) ** 2
    return float(np.exp(-d2 / (2.0 * area * k2)).mean())


class SubjectTracker:
    """Follows one subject through the per-frame detections and smooths its keypoints.

    reacquire_after_s: a subject unseen this long is released and a new one chosen.
    min_similarity: below this blend of IoU and OKS a detection is not the same person.
    min_confidence: joints below it count as not visible (matching and smoothing).
    start_score: the least detection score that starts a track (and can become the subject); a
        detection below it only continues the subject's track, when no confident one matched it.
    """

    def __init__(
        self,
        reacquire_after_s: float = 2.0,
        min_similarity: float = 0.3,
        min_confidence: float = 0.3,
        smoother: KeypointSmoother | None = None,
        start_score: float = 0.25,
    ) -> None:
        self.reacquire_after_s = reacquire_after_s
        self.min_similarity = min_similarity
        self.start_score = start_score
        self.min_confidence = min_confidence
        self.smoother = smoother or KeypointSmoother(min_confidence=min_confidence)
        self._tracks: list[_Track] = []
        self._next_id = 1
        self.subject_id: int | None = None

    def reset(self) -> None:
        """Forget everyone (new session or camera)."""
        self._tracks.clear()
        self.subject_id = None
        self.smoother.reset()

    def update(
        self, persons: Sequence[PersonLike], t: float, frame_size: tuple[int, int] | None = None,
        refine: Callable[[PersonLike], np.ndarray] | None = None,
    ) -> TrackedSubject | None:
        """Feed one frame's detections at time `t` (seconds); the subject if it is seen in this frame.

        frame_size: (width, height), so the first choice can prefer the most central person;
        without it the largest wins. refine: the subject's keypoints read again (BlazePose), called
        for the subject alone once it is chosen; tracking itself matches the detector's keypoints.
        """
        # Unsure detections alone do not keep a track: a dim box left where the subject stood
        # would hold on to them after they left, and nobody new would ever be coached.
        self._tracks = [tr for tr in self._tracks if t - tr.last_sure <= self.reacquire_after_s]
        if self.subject_id is not None and all(tr.track_id != self.subject_id for tr in self._tracks):
            self.subject_id = None
            self.smoother.reset()

        confident = [p for p in persons if p.score >= self.start_score]
        unsure = [p for p in persons if p.score < self.start_score]
        seen = self._associate(confident, t)
        if unsure:
            self._continue(unsure, seen, t)
        if self.subject_id is None and seen:
            self.subject_id = max(seen, key=lambda tid: _prominence(seen[tid].box, frame_size))
            self.smoother.reset()
        if self.subject_id not in seen:
            return None
        person = seen[self.subject_id]
        self._mark_apart(seen)
        raw = np.asarray(person.keypoints if refine is None else refine(person), dtype=np.float32)
        return TrackedSubject(
            track_id=self.subject_id,
            keypoints=self.smoother(raw, t),
            raw_keypoints=raw,
            box=np.asarray(person.box, dtype=np.float32),
            score=float(person.score),
            t=t,
        )

    def _associate(self, persons: Sequence[PersonLike], t: float) -> dict[int, PersonLike]:
        """Match detections to tracks (`_match`); new tracks for the rest."""
        seen: dict[int, PersonLike] = {}
        used_persons: set[int] = set()
        self._match(self._tracks, persons, t, seen, used_persons)

        subject = next((tr for tr in self._tracks if tr.track_id == self.subject_id), None)
        if subject is not None and subject.track_id not in seen:
            self._reclaim(subject, persons, used_persons, seen, t)

        # Unmatched detections start tracks, largest first, except a second box on someone already
        # seen: YOLO sometimes adds an upper-body box inside a full-body one (or the other way
        # round), and a track for it would later claim that person from their own track.
        for pi in sorted(set(range(len(persons))) - used_persons, key=lambda i: -_area(persons[i].box)):
            box = np.asarray(persons[pi].box, dtype=np.float64)
            if any(_nested(box, np.asarray(other.box)) for other in seen.values()):
                continue
            track = _Track(
                track_id=self._next_id,
                box=box.copy(),
                keypoints=np.asarray(persons[pi].keypoints, dtype=np.float64).copy(),
                velocity=np.zeros(2),
                last_seen=t,
                last_sure=t,
            )
            self._next_id += 1
            self._tracks.append(track)
            seen[track.track_id] = persons[pi]
        return seen

    def _reclaim(self, subject: _Track, persons: Sequence[PersonLike], used_persons: set[int],
                 seen: dict[int, PersonLike], t: float) -> None:
        """The subject matched no detection, but one overlaps where they just were: a box left over,
        or one a shadow of theirs took (a track never seen apart from them, dropped now). The pose
        model often boxes only part of a person lying on the floor (push-ups, planks), or all of
        them and more, and a box that jumps like that from one frame to the next is the subject,
        not somebody new. The most overlapping one is theirs."""
        shadows = {pi: tr for tr in self._tracks if tr.track_id in seen and tr is not subject and not tr.apart
                   for pi, person in enumerate(persons) if person is seen[tr.track_id]}
        candidates = [pi for pi in range(len(persons))
                      if (pi not in used_persons or pi in shadows)
                      and _overlapping(np.asarray(persons[pi].box), subject.box)]
        if not candidates:
            return
        pi = max(candidates, key=lambda i: box_iou(subject.box, np.asarray(persons[i].box)))
        if pi in shadows:
            del seen[shadows[pi].track_id]
            self._tracks.remove(shadows[pi])
        used_persons.add(pi)
        self._move(subject, persons[pi], t)
        seen[subject.track_id] = persons[pi]

    def _mark_apart(self, seen: dict[int, PersonLike]) -> None:
        """Tracks seen beside the subject this frame without overlapping them are somebody else."""
        subject_box = np.asarray(seen[self.subject_id].box)  # type: ignore[index]
        for track in self._tracks:
            if track.track_id in seen and track.track_id != self.subject_id and not track.apart:
                track.apart = not _overlapping(np.asarray(seen[track.track_id].box), subject_box)

    def _continue(self, persons: Sequence[PersonLike], seen: dict[int, PersonLike], t: float) -> None:
        """The second association: unsure detections matched to the subject's track when no
        confident one matched it; the rest are dropped, never a new track. Only the subject's:
        a passer-by's track kept alive on unsure boxes (often a second box on the subject)
        later claims the subject's confident box."""
        self._match([tr for tr in self._tracks if tr.track_id == self.subject_id], persons, t, seen, set())

    def _match(self, tracks: list[_Track], persons: Sequence[PersonLike], t: float,
               seen: dict[int, PersonLike], used_persons: set[int]) -> None:
        """Greedy matching, best similarity first, of the persons not used yet to the tracks not
        seen yet: first against where each track is predicted to be (this separates people who
        cross), then, for what is left, against where it was last seen (a jumping or stopping
        person whose velocity estimate overshot). Matches go into `seen` and `used_persons`."""
        for predict in (True, False):
            pairs = [
                (self._similarity(track, person, t, predict), ti, pi)
                for ti, track in enumerate(tracks)
                if track.track_id not in seen
                for pi, person in enumerate(persons)
                if pi not in used_persons
            ]
            for similarity, ti, pi in sorted(pairs, key=lambda pair: pair[0], reverse=True):
                track = tracks[ti]
                if similarity < self.min_similarity or track.track_id in seen or pi in used_persons:
                    continue
                used_persons.add(pi)
                self._move(track, persons[pi], t)
                seen[track.track_id] = persons[pi]

    def _similarity(self, track: _Track, person: PersonLike, t: float, predict: bool) -> float:
        """Blend of box IoU and OKS between a detection and a track (moved on at its velocity if `predict`)."""
        shift = track.velocity * min(t - track.last_seen, _MAX_PREDICTION_S) if predict else np.zeros(2)
        box = track.box + np.tile(shift, 2)
        keypoints = track.keypoints.copy()
        keypoints[:, :2] += shift
        area = float((box[2] - box[0]) * (box[3] - box[1]))
        iou = box_iou(box, np.asarray(person.box))
        oks = keypoint_similarity(keypoints, np.asarray(person.keypoints), area, self.min_confidence)
        return iou if oks is None else 0.5 * (iou + oks)

    def _move(self, track: _Track, person: PersonLike, t: float) -> None:
        box = np.asarray(person.box, dtype=np.float64)
        dt = t - track.last_seen
        if dt > 0:
            step = ((box[:2] + box[2:]) - (track.box[:2] + track.box[2:])) / 2.0 / dt
            track.velocity = 0.5 * track.velocity + 0.5 * step
        track.box = box.copy()
        track.keypoints = np.asarray(person.keypoints, dtype=np.float64).copy()
        track.last_seen = t
        if person.score >= self.start_score:
            track.last_sure = t


def _prominence(box: np.ndarray, frame_size: tuple[int, int] | None) -> float:
    """How much a person looks like the one to coach: big, and near the centre when the frame is known."""
    box = np.asarray(box, dtype=np.float64)
    area = _area(box)
    if frame_size is None:
        return area
    width, height = frame_size
    centre = (box[:2] + box[2:]) / 2.0
    offset = np.linalg.norm((centre - (width / 2.0, height / 2.0)) / (width / 2.0, height / 2.0)) / np.sqrt(2.0)
    return float(area * max(1.0 - offset, 0.05))
