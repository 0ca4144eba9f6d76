"""The coaching measured on real people: exercise recognition, rep counts, phases and form.

The real labelled development set (../shared/data/real, see its README) goes through exactly the
code a live session runs, so these figures are the product's, not a re-implementation's:

  * keypoint files as recorded sets: FrameAnalyzer(pose=None, exercise=...).process_keypoints per
    frame, then finish (as realtime/analyze.py analyse_sequence); 30 fps where a file gives none;
  * videos through the embedded pose model, the subject tracker and the coach, as
    FrameAnalyzer.process_image runs them (as analyse_video). Pose is the slow part (~35k frames on
    2 cores), so each video's detected people per frame are cached under ~/.cache/coach-video-poses/
    (training/video_poses.py), keyed by the video's and the pose model's sha256, and replayed through
    FrameAnalyzer.process_people: tracking and coaching run anew on every run.

Sections (--sections):
  recognition  exercise on "auto": the exercise announced for most of the clip against the label;
               other movements (labels whose exercise the coach does not know) announced as one it does;
               and short clips: 1.5 s and 2.5 s cut from the long count sequences (up to 6 of each a
               file, spread over it), each a recording of its own, as the short real clips a user sends
  reps         RepCompleted events against the labelled count, exercise chosen, and on "auto" end to end
  phase        labelled single frames against coaching.frame_phase (the exercise's own thresholds)
  form         push-up clips (any FaultDetected = wrong), push-up single frames (the spec's rules on
               one frame), plank single frames held for 2 s through the coach
  generated    tests/coaching_sequences.py clips, clean and with each injected fault, and movements the
               coach does not know (right when nothing is named): a regression check

Every real-data figure is given for all files and for those the learned model did not train on
("held out": training/split.py as training/dataset.py applies it; a video is on the side of the
MoveNet keypoints of the same clip, and held out where there are none).

    .venv/bin/python benchmarks/accuracy.py [--sections recognition,reps,phase,form,generated]
        [--limit N] [--max-frames N] [--no-videos] [--no-cache] [--processes 2] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import asdict, dataclass
from multiprocessing import Pool
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from coaching.events import Event  # noqa: E402
from coaching.exercises import EXERCISES  # noqa: E402
from coaching.frame_phase import frame_phase, learned_frame_phase, single_frame_drivers  # noqa: E402
from coaching.geometry import Pose  # noqa: E402
from coaching.measures import MEASURES  # noqa: E402
from coaching.motion import MotionModel, load_default_model  # noqa: E402
from coaching.spec import ExerciseSpec, FaultRule  # noqa: E402
from coaching.view import classify_view, width_ratio  # noqa: E402
from models.paths import pin_caches  # noqa: E402
from realtime.analysis import FrameAnalyzer  # noqa: E402
from training import video_poses  # noqa: E402
from training.real_data import RealData, VideoFile, as_pixels, plank_image_aspect, real_data_root  # noqa: E402
from training.split import is_held_out, video_is_held_out  # noqa: E402

Record = dict[str, Any]
SECTIONS = ("recognition", "reps", "phase", "form", "generated")
SEQUENCE_SOURCES = ("repcount/test_sequences", "countix_fitness/test_sequences", "pushfit_movenet")
VIDEO_SOURCES = ("workouttracker", "pushfit")
PHASE_SOURCES = ("gym_exercise_correction", "countix_fitness/salient_frames")
GYM = "gym_exercise_correction"
DEFAULT_JSON = ROOT / "benchmarks" / "results" / "accuracy.json"
STILL_S, STILL_FPS = 2.0, 30.0  # a labelled plank frame is held this long through the coach
SHORT_LENGTHS_S, SHORT_PER_FILE = (1.5, 2.5), 6  # short clips cut from the long count sequences
SHORT_SOURCES = ("repcount/test_sequences", "countix_fitness/test_sequences")
FRAME_CHUNK = 120  # single frames per task: small enough to share the work between processes
GENERATED_REPS, GENERATED_SEED = 5, 11
NOT_MEASURABLE = "not measurable"
NONE = "none"
UP_WORDS = {"up", "top", "standing", "stand", "raised", "extended", "lockout"}
DOWN_WORDS = {"down", "bottom", "low", "lowered"}


# ---- labels -----------------------------------------------------------------------------------

def known_exercise(label: str) -> str | None:
    """The coach's exercise a data set's label names ('other:sit_up' is sit_up once the coach
    knows sit-ups), or None for a movement the coach does not know (a negative)."""
    name = label.removeprefix("other:")
    return name if name in EXERCISES else None


def _position(text: str) -> str | None:
    """'up' / 'down' / 'middle' from a label's meaning or a phase name, by its first telling word."""
    for word in re.findall(r"[a-z]+", text.lower()):
        if word in UP_WORDS:
            return "up"
        if word in DOWN_WORDS:
            return "down"
        if word == "middle":
            return "middle"
    return None


def phase_table(labels: dict[str, Any], spec: ExerciseSpec) -> dict[str, str] | None:
    """Each phase code of a single-frame file as rest / middle / turn of this exercise.

    The files say where the body is ('U': 'up', salient1: 'down (bottom)'); the spec's phase names
    say which end is the start (a squat's rest is 'top', a curl's turn is 'up'). None when
    either cannot be read (Countix classes whose salient poses the data set did not check).
    """
    meanings = labels.get("phase_codes") or labels.get("phase_meaning")
    if not isinstance(meanings, dict):
        return None
    rest, turn = _position(spec.phases.rest), _position(spec.phases.turn)
    if rest == "up" or turn == "down":
        up_is, down_is = "rest", "turn"
    elif rest == "down" or turn == "up":
        up_is, down_is = "turn", "rest"
    else:
        return None
    where = {"up": up_is, "down": down_is, "middle": "middle"}
    table = {code: where[pos] for code, text in meanings.items() if (pos := _position(str(text))) is not None}
    return table or None


def single_frame_rules(spec: ExerciseSpec) -> list[FaultRule]:
    """The fault rules one frame can judge: not those over the phase driver's own measure (they
    judge a rep's range, e.g. 'not lowering all the way', which a top-position frame would always
    fail) and not those relative to the start position (no start position in one frame)."""
    drivers = {d.measure for d in spec.drivers}
    return [r for r in spec.faults if r.measure not in drivers and r.baseline == "none"]


# ---- which files the learned model did not train on (as training/dataset.py splits) -----------

def frames_held_out(source: str, meta: dict[str, Any], rows: Sequence[int], name: str) -> list[bool]:
    """Gym-Exercise-Correction: the source's own test files; Countix salient frames: by their video."""
    if source == GYM:
        return [meta.get("split_in_source") == "test"] * len(rows)
    videos = (meta.get("frame_meta") or {}).get("video")
    return [is_held_out(str(videos[i]).removesuffix(".mp4") if videos else name) for i in rows]


# ---- one clip through the coach -----------------------------------------------------------------

def learned_model() -> MotionModel | None:
    """The shipped skeleton model, or None when it cannot load (the run's meta says why)."""
    try:
        return load_default_model()
    except Exception:
        return None


def run_coach(frames: Sequence[np.ndarray | None], times: Sequence[float], width: int, height: int,
              exercise: str) -> list[Event]:
    """A recorded set through the live per-frame pipeline, as realtime.analyze runs one."""
    analyzer = FrameAnalyzer(pose=None, exercise=exercise)
    events: list[Event] = []
    for keypoints, t in zip(frames, times):
        events += analyzer.process_keypoints(keypoints, width, height, float(t))
    events += analyzer.finish(float(times[-1]) if len(times) else 0.0)
    return events


def main_exercise(announced: list[tuple[float, str]], end: float) -> str | None:
    """The announced exercise that held most of the clip after its announcement; the later one on a tie."""
    held: Counter[str] = Counter()
    for (t, exercise), until in zip(announced, [a[0] for a in announced[1:]] + [end]):
        held[exercise] += max(0.0, until - t)
    best = None
    for _, exercise in announced:
        if best is None or held[exercise] >= held[best]:
            best = exercise
    return best


def pass_summary(events: list[Event], end: float) -> Record:
    announced = [(float(e.t), e.exercise) for e in events if e.type == "exercise_changed"]
    return {
        "reps": sum(e.type == "rep_completed" for e in events),
        "faults": dict(Counter(e.fault for e in events if e.type == "fault_detected")),
        "announced": main_exercise(announced, end),
        "first_announcement_t": round(announced[0][0], 2) if announced else None,
        "announcements": [[round(t, 2), name] for t, name in announced],
    }


def clip_record(*, rel: str, name: str, source: str, label: str, held_out: bool, labels: dict[str, Any],
                coach: Callable[[str], list[Event]], times: np.ndarray, first_rep_frame: int | None,
                modes: tuple[str, ...]) -> Record:
    """One clip's truth and what the coach made of it on "auto" and/or with its exercise chosen.
    coach(exercise) runs the whole clip through a fresh coach and gives its events."""
    end = float(times[-1]) if len(times) else 0.0
    exercise = known_exercise(label)
    record: Record = {
        "file": rel, "name": name, "source": source, "label": label, "exercise": exercise,
        "held_out": held_out, "frames": len(times), "seconds": round(end, 2),
        "reps_true": labels.get("rep_count"), "form": labels.get("form"),
        "first_rep_t": (round(float(times[first_rep_frame]), 2)
                        if first_rep_frame is not None and first_rep_frame < len(times) else None),
        "auto": None, "manual": None,
    }
    if "auto" in modes:
        record["auto"] = pass_summary(coach("auto"), end)
    if "manual" in modes and exercise is not None:
        record["manual"] = pass_summary(coach(exercise), end)
    return record


def track_video(detections: video_poses.Detections, exercise: str) -> tuple[list[np.ndarray | None], list[Event]]:
    """Stored detections through subject tracking and the coach, as a live session runs them:
    the coached person's keypoints per frame (None: nobody tracked) and the coach's events."""
    min_score = video_poses.live_score_threshold()
    analyzer = FrameAnalyzer(pose=None, exercise=exercise)
    frames: list[np.ndarray | None] = []
    events: list[Event] = []
    for i, t in enumerate(detections.times):
        people, refine = detections.frame(i, min_score)
        result = analyzer.process_people(people, detections.width, detections.height, float(t), refine)
        frames.append(result.keypoints)
        events += result.events
    end = float(detections.times[-1]) if len(detections.times) else 0.0
    return frames, events + analyzer.finish(end)


# ---- the work, in worker processes ----------------------------------------------------------------

class Runner:
    """Runs tasks: ('sequence' | 'video', path, modes), ('short', path), ('detect', path), ('phase' |
    'pushup_frames' | 'plank', path, rows), ('generated', exercise, view, faults, fault id). One per process."""

    def __init__(self, root: Path, pose_threads: int) -> None:
        pin_caches()
        self.data = RealData(root)
        self.pose_threads = pose_threads
        self._poser: video_poses.VideoPoser | None = None
        self._videos: dict[str, VideoFile] | None = None

    def __call__(self, task: tuple) -> tuple[tuple, Record]:
        return task, getattr(self, task[0])(*task[1:])

    def video_file(self, rel: str) -> VideoFile:
        if self._videos is None:
            self._videos = {v.rel: v for v in self.data.videos()}
        return self._videos[rel]

    def sequence(self, rel: str, modes: tuple[str, ...]) -> Record:
        kf = self.data.keypoint_file(rel)
        kp, width, height = as_pixels(kf)
        frames = [k if (k[:, 2] > 0).any() else None for k in kp]  # a frame without detection: nobody
        times = np.arange(len(kp)) / kf.frame_rate
        return clip_record(rel=rel, name=kf.name, source=kf.source, label=kf.exercise,
                           held_out=is_held_out(kf.name), labels=kf.labels,
                           coach=lambda exercise: run_coach(frames, times, width, height, exercise),
                           times=times, first_rep_frame=kf.first_rep_end_frame, modes=modes)

    def short(self, rel: str) -> Record:
        """Short clips cut from one sequence, each through a fresh coach on "auto" to its end:
        what was announced, per clip length."""
        kf = self.data.keypoint_file(rel)
        kp, width, height = as_pixels(kf)
        announced: dict[str, list[str | None]] = {}
        for seconds in SHORT_LENGTHS_S:
            n = int(seconds * kf.frame_rate)
            starts = np.linspace(0, len(kp) - n, min(SHORT_PER_FILE, max(1, len(kp) // n))).round().astype(int) \
                if len(kp) >= n else []
            announced[f"{seconds:g}"] = names = []
            for start in starts:
                frames = [k if (k[:, 2] > 0).any() else None for k in kp[start:start + n]]
                if sum(f is not None for f in frames) < n // 2:
                    continue  # mostly nobody in view: not a clip anyone would send
                events = run_coach(frames, np.arange(n) / kf.frame_rate, width, height, "auto")
                names.append(pass_summary(events, (n - 1) / kf.frame_rate)["announced"])
        return {"file": rel, "label": kf.exercise, "exercise": known_exercise(kf.exercise),
                "held_out": is_held_out(kf.name), "announced": announced}

    def detect(self, rel: str) -> Record:
        if self._poser is None:
            self._poser = video_poses.VideoPoser(self.pose_threads)
        return {"file": rel, "frames": self._poser(self.video_file(rel))}

    def video(self, rel: str, modes: tuple[str, ...]) -> Record:
        video = self.video_file(rel)
        detections = video_poses.load(video)
        tracked: list[int] = []

        def coach(exercise: str) -> list[Event]:
            frames, events = track_video(detections, exercise)
            tracked.append(sum(k is not None for k in frames))
            return events

        record = clip_record(rel=rel, name=video.name, source=video.source, label=video.exercise,
                             held_out=video_is_held_out(video.keypoints_twin), labels=video.labels, coach=coach,
                             times=detections.times, first_rep_frame=video.first_rep_end_frame, modes=modes)
        record["frames_with_subject"] = tracked[0] if tracked else None
        return record

    def _frames(self, rel: str, rows: tuple[int, ...]) -> tuple[Any, np.ndarray, int, int, list[bool]]:
        kf = self.data.keypoint_file(rel)
        # The image size comes from the whole file, not the chunk; a plank file's lost aspect ratio
        # from its bone lengths, as a live camera's frames have theirs.
        aspect = plank_image_aspect(kf.frames) if kf.exercise == "plank" and kf.coords == "hip_centred" else 1.0
        kp, width, height = as_pixels(kf, aspect=aspect)
        held = frames_held_out(kf.source, kf.meta, rows, kf.name)
        return kf, kp[list(rows)], width, height, held

    def phase(self, rel: str, rows: tuple[int, ...]) -> Record:
        kf, kp, width, height, held = self._frames(rel, rows)
        exercise = known_exercise(kf.exercise)
        record: Record = {"file": rel, "source": kf.source, "label": kf.exercise, "exercise": exercise}
        table = phase_table(kf.labels, EXERCISES[exercise]) if exercise else None
        if table is None:
            record["skipped"] = ("not an exercise the coach knows" if exercise is None
                                 else "the data set does not say which pose its phase labels are")
            return record
        spec = EXERCISES[exercise]
        codes = [kf.labels["phase"][i] for i in rows]
        views = [classify_view(width_ratio(Pose(k, width, height))) for k in kp]
        model = learned_model()
        record.update(
            truth=[table.get(c) for c in codes],
            predicted=[frame_phase(spec, k, width, height) or NOT_MEASURABLE for k in kp],
            learned=[learned_frame_phase(model, k, exercise) if model else NOT_MEASURABLE for k in kp],
            views=views,
            driver_for_view=[bool(single_frame_drivers(spec, v)) for v in views],
            held_out=held,
        )
        return record

    def pushup_frames(self, rel: str, rows: tuple[int, ...]) -> Record:
        """Push-up single frames: wrong when a fault rule one frame can judge fires from its view."""
        kf, kp, width, height, held = self._frames(rel, rows)
        rules = single_frame_rules(EXERCISES["push_up"])
        predicted, fired_ids = [], []
        for k in kp:
            pose = Pose(k, width, height)
            view = classify_view(width_ratio(pose))
            # Each rule's measure from the views it judges, scaled as the coach scales it there.
            values = {r.id: (MEASURES[r.measure](pose), scale) for r in rules if (scale := r.scale_in(view))}
            judged = {i: v / scale for i, (v, scale) in values.items() if v is not None}
            fired = [r.id for r in rules if r.id in judged and r.fires(judged[r.id])]
            predicted.append("wrong" if fired else "correct" if judged else NOT_MEASURABLE)
            fired_ids.append(fired)
        return {"file": rel, "source": kf.source, "label": "push_up", "rules": [r.id for r in rules],
                "truth": [_form_code(kf.labels, i) for i in rows], "predicted": predicted, "fired": fired_ids,
                "held_out": held}

    def plank(self, rel: str, rows: tuple[int, ...]) -> Record:
        """Plank single frames, each held still for STILL_S through the coach with plank chosen."""
        kf, kp, width, height, held = self._frames(rel, rows)
        times = np.arange(int(STILL_S * STILL_FPS)) / STILL_FPS
        predicted, in_position, fired = [], [], []
        for k in kp:
            events = run_coach([k] * len(times), times, width, height, "plank")
            faults = sorted({e.fault for e in events if e.type == "fault_detected"})
            predicted.append("wrong" if faults else "correct")
            in_position.append(any(e.type == "phase_changed" and e.phase == "hold" for e in events))
            fired.append(faults)
        return {"file": rel, "source": kf.source, "label": "plank", "truth": [_form_code(kf.labels, i) for i in rows],
                "predicted": predicted, "in_position": in_position, "fired": fired, "held_out": held}

    def generated(self, exercise: str, view: str, faults: dict[str, float], fault_id: str | None) -> Record:
        from tests.coaching_sequences import generate

        record: Record = {"exercise": exercise, "view": view, "faults": faults, "expected_fault": fault_id}
        try:
            seq = generate(exercise, reps=GENERATED_REPS, view=view, faults=faults, seed=GENERATED_SEED)
        except Exception as exc:  # noqa: BLE001 - exercises the generator cannot pose yet are reported, not fatal
            record["skipped"] = f"{type(exc).__name__}: {exc}"
            return record
        frames, end = list(seq.frames), float(seq.times[-1])
        auto = pass_summary(run_coach(frames, seq.times, seq.width, seq.height, "auto"), end)
        if exercise not in EXERCISES:  # a movement the coach does not know: right when nothing is named
            record.update(recognised=auto["announced"], reps_true=None, reps=None, faults_fired=auto["faults"],
                          ok_recognition=auto["announced"] is None, ok_reps=None, ok_faults=None)
            return record
        manual = pass_summary(run_coach(frames, seq.times, seq.width, seq.height, exercise), end)
        hold = EXERCISES[exercise].kind == "hold"
        record.update(
            recognised=auto["announced"], reps_true=None if hold else GENERATED_REPS,
            reps=None if hold else manual["reps"], faults_fired=manual["faults"],
            ok_recognition=auto["announced"] == exercise,
            ok_reps=None if hold else manual["reps"] == GENERATED_REPS,
            ok_faults=(set(manual["faults"]) == {fault_id}) if fault_id else not manual["faults"],
        )
        return record


def _form_code(labels: dict[str, Any], i: int) -> str:
    return labels["form_codes"][labels["form"][i]]  # 'C' / 'W' -> 'correct' / 'wrong'


_RUNNER: Runner | None = None


def _init_worker(root: Path, pose_threads: int) -> None:
    global _RUNNER
    _RUNNER = Runner(root, pose_threads)


def _work(task: tuple) -> tuple[tuple, Record]:
    assert _RUNNER is not None
    return _RUNNER(task)


def run_tasks(tasks: list[tuple], cost: Callable[[tuple], int], runner_args: tuple, processes: int,
              desc: str, unit: str, progress: bool) -> list[tuple[tuple, Record]]:
    """(task, record) for every task, run in `processes` worker processes (in this one for 1),
    largest first so the last ones are short; a progress bar advancing by each task's cost."""
    tasks = sorted(tasks, key=cost, reverse=True)
    out: list[tuple[tuple, Record]] = []
    # Shown in logs too (a first run spends most of its time in pose), but rarely when not on a terminal.
    with tqdm(total=sum(cost(t) for t in tasks), desc=desc, unit=unit, disable=not progress, smoothing=0.05,
              mininterval=1.0 if sys.stderr.isatty() else 30.0) as bar:
        if processes <= 1:
            runner = Runner(*runner_args)
            results: Iterable[tuple[tuple, Record]] = map(runner, tasks)
            for task, record in results:
                out.append((task, record))
                bar.update(cost(task))
        else:
            with Pool(processes, initializer=_init_worker, initargs=runner_args) as pool:
                for task, record in pool.imap_unordered(_work, tasks):
                    out.append((task, record))
                    bar.update(cost(task))
    return out


# ---- choosing the work -------------------------------------------------------------------------

def spread(items: list[Any], key: Callable[[Any], Hashable], limit: int | None) -> list[Any]:
    """At most `limit` items taken in turn from each group (exercise, correct / wrong), so a quick
    run still sees every kind of file; all items without a limit."""
    if limit is None:
        return items
    groups: dict[Hashable, list[Any]] = defaultdict(list)
    for item in items:
        groups[key(item)].append(item)
    queues = [list(g) for g in groups.values()]
    out: list[Any] = []
    while len(out) < limit and any(queues):
        for q in queues:
            if q and len(out) < limit:
                out.append(q.pop(0))
    return out


def _parent(rel: str) -> str:
    return rel.rsplit("/", 1)[0]


@dataclass
class Options:
    """What to run: the command line's options (tests pass a small limit, no videos, one process)."""

    sections: tuple[str, ...] = SECTIONS
    limit: int | None = None
    max_frames: int | None = None
    videos: bool = True
    use_cache: bool = True
    processes: int = 2
    progress: bool = True


def plan(data: RealData, options: Options) -> dict[str, list[tuple]]:
    """The tasks each stage runs: pose for uncached videos, then every analysis."""
    want = set(options.sections)
    entries = {e["path"]: e for e in data.manifest["files"]}
    tasks: list[tuple] = []
    clip_sections = want & {"recognition", "reps", "form"}
    # "auto" serves recognition and end-to-end reps; the exercise chosen serves reps and form.
    modes = tuple(m for m, needed in (("auto", bool(want & {"recognition", "reps"})),
                                      ("manual", bool(want & {"reps", "form"}))) if needed)
    if clip_sections:
        for source in SEQUENCE_SOURCES:
            rels = spread(data.keypoint_paths(source, "sequence"), _parent, options.limit)
            tasks += [("sequence", rel, modes) for rel in rels]
    if "recognition" in want:
        for source in SHORT_SOURCES:
            tasks += [("short", rel) for rel in spread(data.keypoint_paths(source, "sequence"), _parent, options.limit)]
    videos: list[VideoFile] = []
    if clip_sections and options.videos:
        for source in VIDEO_SOURCES:
            videos += spread(list(data.videos(source)), lambda v: _parent(v.rel), options.limit)
        tasks += [("video", v.rel, modes) for v in videos]

    def frame_tasks(kind: str, rels: list[str]) -> list[tuple]:
        out = []
        for rel in spread(rels, _parent, options.limit):
            n = entries[rel]["frames"]
            rows = np.arange(n) if options.max_frames is None or n <= options.max_frames else \
                np.linspace(0, n - 1, options.max_frames).round().astype(int)
            out += [(kind, rel, tuple(int(r) for r in rows[i:i + FRAME_CHUNK]))
                    for i in range(0, len(rows), FRAME_CHUNK)]
        return out

    if "phase" in want:
        for source in PHASE_SOURCES:
            rels = [r for r in data.keypoint_paths(source, "frames") if "phase_counts" in entries[r].get("labels", {})]
            tasks += frame_tasks("phase", rels)
    if "form" in want:
        gym = data.keypoint_paths(GYM, "frames")
        tasks += frame_tasks("pushup_frames", [r for r in gym if entries[r]["exercise"] == "push_up"])
        tasks += frame_tasks("plank", [r for r in gym if entries[r]["exercise"] == "plank"])
    if "generated" in want:
        tasks += spread(generated_tasks(), lambda t: t[1], options.limit)
    try:
        uncached = video_poses.missing(videos) if options.use_cache and videos else videos
    except FileNotFoundError as e:
        raise SystemExit(f"error: {e}, or use --no-videos") from e
    return {"detect": [("detect", v.rel) for v in uncached], "analyse": tasks}


def generated_tasks() -> list[tuple]:
    """Every exercise clean from the side and the front, and with each fault the fault tests inject
    (in the view that fault is judged from); the generator's movements the coach does not know too."""
    from tests.coaching_sequences import OTHER_MOVES
    from tests.test_coaching_faults import INJECTED

    tasks: list[tuple] = [("generated", move, view, {}, None) for move in OTHER_MOVES for view in ("side", "front")]
    for exercise in EXERCISES:
        tasks += [("generated", exercise, view, {}, None) for view in ("side", "front")]
        tasks += [("generated", exercise, view, dict(faults), fault_id)
                  for name, view, faults, fault_id in INJECTED if name == exercise]
    return tasks


def task_cost(entries: dict[str, Record], videos: dict[str, VideoFile]) -> Callable[[tuple], int]:
    """Frames a task feeds through the coach (or the pose model), for ordering and the progress bar."""
    def cost(task: tuple) -> int:
        kind = task[0]
        if kind == "detect":
            return videos[task[1]].n_frames
        if kind == "video":
            return videos[task[1]].n_frames * len(task[2])
        if kind == "sequence":
            return int(entries[task[1]]["frames"]) * len(task[2])
        if kind == "short":
            return int(SHORT_PER_FILE * sum(SHORT_LENGTHS_S) * 30)
        if kind == "plank":
            return len(task[2]) * int(STILL_S * STILL_FPS)
        if kind in ("phase", "pushup_frames"):
            return len(task[2])
        return 900  # a generated clip, both passes
    return cost


# ---- figures -----------------------------------------------------------------------------------

def pct(k: int, n: int) -> float | None:
    return round(100.0 * k / n, 1) if n else None


def count_figures(pairs: list[tuple[int, int]]) -> Record:
    """Rep counts (counted, true): exact and within one, mean absolute and signed error per set, and
    the error over the true count (`normalised_mae`: the MAE that RepCount-A and the pose-based counters
    measured on it publish, over the sets with at least one rep)."""
    errors = [c - t for c, t in pairs]
    relative = [abs(c - t) / t for c, t in pairs if t > 0]
    return {
        "n": len(pairs),
        "exact_pct": pct(sum(e == 0 for e in errors), len(errors)),
        "within_1_pct": pct(sum(abs(e) <= 1 for e in errors), len(errors)),
        "mae": round(statistics.fmean(abs(e) for e in errors), 2) if errors else None,
        "bias": round(statistics.fmean(errors), 2) if errors else None,
        "normalised_mae": round(statistics.fmean(relative), 3) if relative else None,
        "true_reps": sum(t for _, t in pairs),
    }


def form_figures(items: list[tuple[bool, bool]]) -> Record:
    """(truly wrong, judged wrong) pairs: wrong form is the positive class."""
    tp = sum(t and p for t, p in items)
    fp = sum(p and not t for t, p in items)
    fn = sum(t and not p for t, p in items)
    tn = len(items) - tp - fp - fn
    precision = tp / (tp + fp) if tp + fp else None
    recall = tp / (tp + fn) if tp + fn else None
    f1 = 2 * precision * recall / (precision + recall) if precision and recall else (0.0 if tp + fp + fn else None)
    return {"n": len(items), "wrong": tp + fn, "tp": tp, "fp": fp, "fn": fn, "tn": tn,
            "precision": None if precision is None else round(precision, 3),
            "recall": None if recall is None else round(recall, 3),
            "f1": None if f1 is None else round(f1, 3), "accuracy_pct": pct(tp + tn, len(items))}


def both(records: list[Record], fn: Callable[[list[Record]], Record]) -> Record:
    """A figure for all records and for the held-out ones."""
    return {"all": fn(records), "held_out": fn([r for r in records if r["held_out"]])}


def short_figures(files: list[Record], seconds: float) -> Record:
    """Short clips of one length: known exercises recognised, other movements taken for an exercise."""
    key = f"{seconds:g}"
    known = [(r["exercise"], a) for r in files if r["exercise"] is not None for a in r["announced"][key]]
    others = [a for r in files if r["exercise"] is None for a in r["announced"][key]]
    return {"seconds": seconds, "known": len(known), "accuracy_pct": pct(sum(e == a for e, a in known), len(known)),
            "negatives": len(others), "false_positive_pct": pct(sum(a is not None for a in others), len(others))}


def recognition_figures(clips: list[Record], short: list[Record] | None = None) -> Record:
    def figures(rs: list[Record]) -> Record:
        known = [r for r in rs if r["exercise"] is not None]
        negatives = [r for r in rs if r["exercise"] is None]
        delays = [r["auto"]["first_announcement_t"] - r["first_rep_t"] for r in known
                  if r["first_rep_t"] is not None and r["auto"]["first_announcement_t"] is not None]
        timed = [r for r in known if r["first_rep_t"] is not None]
        return {
            "known": len(known), "correct": sum(r["auto"]["announced"] == r["exercise"] for r in known),
            "accuracy_pct": pct(sum(r["auto"]["announced"] == r["exercise"] for r in known), len(known)),
            "negatives": len(negatives),
            "false_positive_pct": pct(sum(r["auto"]["announced"] is not None for r in negatives), len(negatives)),
            "first_announcement_after_first_rep_s": {
                "clips_with_rep_labels": len(timed), "announced": len(delays),
                "median": round(statistics.median(delays), 2) if delays else None,
                "p90": round(float(np.percentile(delays, 90)), 2) if delays else None,
            },
        }

    confusion: dict[str, Counter[str]] = defaultdict(Counter)
    for r in clips:
        confusion[r["label"]][r["auto"]["announced"] or NONE] += 1
    return {
        "overall": both(clips, figures),
        "short_clips": [both(short, lambda rs, s=s: short_figures(rs, s)) for s in SHORT_LENGTHS_S] if short else [],
        "by_source": {s: both(rs, figures) for s, rs in _group(clips, "source").items()},
        "by_label": {lab: both(rs, figures) for lab, rs in _group(clips, "label").items()},
        "confusion": {lab: dict(c) for lab, c in sorted(confusion.items())},
        "confusion_by_source": {s: {lab: dict(Counter(r["auto"]["announced"] or NONE for r in rs2))
                                    for lab, rs2 in _group(rs, "label").items()}
                                for s, rs in _group(clips, "source").items()},
    }


def reps_figures(clips: list[Record]) -> Record:
    """Count figures per mode, overall, per source and per exercise; `labelled_reps` leaves out the
    sets labelled 0 reps, which in WorkoutTracker and PushFit mostly show whole reps (the elbow
    going from ~170 to 60-90 degrees and back: docs/REAL_PEOPLE.md), so the split says which
    errors are the counter's."""
    counted = [r for r in clips if r["exercise"] is not None and r["reps_true"] is not None]

    def mode(name: str) -> Callable[[list[Record]], Record]:
        return lambda rs: count_figures([(r[name]["reps"], r["reps_true"]) for r in rs if r[name] is not None])

    out: Record = {}
    for name in ("manual", "auto"):
        out[name] = {
            "overall": both(counted, mode(name)),
            "labelled_reps": both([r for r in counted if r["reps_true"] > 0], mode(name)),
            "by_source": {s: both(rs, mode(name)) for s, rs in _group(counted, "source").items()},
            "by_source_exercise": {f"{s} / {e}": both(rs, mode(name))
                                   for (s, e), rs in _group2(counted, "source", "exercise").items()},
        }
    return out


def phase_figures(records: list[Record]) -> Record:
    used = [r for r in records if "skipped" not in r]
    skipped = sorted({(r["file"], r["skipped"]) for r in records if "skipped" in r})

    def figures(frames: list[tuple[str, str, bool, str, str]]) -> Record:
        measurable = [(t, p) for t, p, _, _, _ in frames if p != NOT_MEASURABLE]
        confusion: dict[str, Counter[str]] = defaultdict(Counter)
        learned_confusion: dict[str, Counter[str]] = defaultdict(Counter)
        for t, p, _, _, lp in frames:
            confusion[t][p] += 1
            learned_confusion[t][lp] += 1
        return {
            "frames": len(frames), "not_measurable_pct": pct(len(frames) - len(measurable), len(frames)),
            "no_driver_for_view_pct": pct(sum(not d for _, _, d, _, _ in frames), len(frames)),
            "accuracy_pct": pct(sum(t == p for t, p in measurable), len(measurable)),
            "views": dict(Counter(v for _, _, _, v, _ in frames)),
            "confusion": {t: dict(confusion[t]) for t in ("rest", "middle", "turn") if t in confusion},
            # The learned model reads every frame, whatever the view and the joints seen.
            "learned_accuracy_pct": pct(sum(t == lp for t, _, _, _, lp in frames), len(frames)),
            "learned_confusion": {t: dict(learned_confusion[t]) for t in ("rest", "middle", "turn")
                                  if t in learned_confusion},
        }

    def frames_of(rs: list[Record], held_only: bool) -> list[tuple[str, str, bool, str, str]]:
        return [(t, p, d, v, lp) for r in rs
                for t, p, d, v, lp, h in zip(r["truth"], r["predicted"], r["driver_for_view"], r["views"],
                                             r["learned"], r["held_out"])
                if t is not None and (h or not held_only)]

    def split(rs: list[Record]) -> Record:
        return {"all": figures(frames_of(rs, False)), "held_out": figures(frames_of(rs, True))}

    return {
        "overall": split(used),
        "by_source_exercise": {f"{s} / {e}": split(rs) for (s, e), rs in _group2(used, "source", "exercise").items()},
        "skipped": [{"file": f, "why": w} for f, w in skipped],
    }


def form_section(clips: list[Record], pushup_frames: list[Record], plank: list[Record]) -> Record:
    judged = [r for r in clips if r["form"] is not None and r["manual"] is not None]

    def clip_form(rs: list[Record]) -> Record:
        return form_figures([(r["form"] == "wrong", bool(r["manual"]["faults"])) for r in rs])

    def frame_form(rs: list[Record], held_only: bool) -> list[tuple[bool, bool]]:
        return [(t == "wrong", p == "wrong") for r in rs for t, p, h in zip(r["truth"], r["predicted"], r["held_out"])
                if h or not held_only]

    def frames_both(rs: list[Record]) -> Record:
        return {"all": form_figures(frame_form(rs, False)), "held_out": form_figures(frame_form(rs, True))}

    def faults_by_label(rs: list[Record]) -> Record:
        out: dict[str, Counter[str]] = defaultdict(Counter)
        for r in rs:
            out[r["form"]].update(r["manual"]["faults"].keys())
        return {label: {"clips": sum(r["form"] == label for r in rs), "faults": dict(c)} for label, c in out.items()}

    pushup_n = sum(len(r["predicted"]) for r in pushup_frames)
    plank_n = sum(len(r["predicted"]) for r in plank)
    # The WorkoutTracker push-ups with a form label are PushFit's own correct clips stored once, so
    # they are judged with PushFit's videos, not as a source of their own (it has no wrong clips).
    groups: dict[str, list[Record]] = defaultdict(list)
    for r in judged:
        groups["PushFit MoveNet keypoints" if r["source"] == "pushfit_movenet" else "PushFit videos"].append(r)
    return {
        "push_up_clips": {g: {**both(rs, clip_form), "faults_by_label": faults_by_label(rs)}
                          for g, rs in sorted(groups.items())},
        "push_up_frames": {
            **frames_both(pushup_frames),
            "rules": pushup_frames[0]["rules"] if pushup_frames else [],
            "not_judgeable_pct": pct(sum(p == NOT_MEASURABLE for r in pushup_frames for p in r["predicted"]), pushup_n),
            "faults_fired": dict(Counter(f for r in pushup_frames for fs in r["fired"] for f in fs)),
        },
        "plank_frames": {
            **frames_both(plank),
            "in_position_pct": pct(sum(x for r in plank for x in r["in_position"]), plank_n),
            "faults_fired": dict(Counter(f for r in plank for fs in r["fired"] for f in fs)),
        },
    }


def generated_figures(records: list[Record]) -> Record:
    run = [r for r in records if "skipped" not in r]
    reps = [r for r in run if r["ok_reps"] is not None]
    judged = [r for r in run if r["ok_faults"] is not None]
    return {
        "clips": len(run),
        "recognised_pct": pct(sum(r["ok_recognition"] for r in run), len(run)),
        "reps_exact_pct": pct(sum(r["ok_reps"] for r in reps), len(reps)),
        "faults_as_expected_pct": pct(sum(r["ok_faults"] for r in judged), len(judged)),
        "reps_clips": len(reps), "faults_clips": len(judged),
        "skipped": sorted({f"{r['exercise']}: {r['skipped']}" for r in records if "skipped" in r}),
        "clips_detail": sorted(records, key=lambda r: (r["exercise"], r["view"], r["expected_fault"] or "")),
    }


def _group(records: list[Record], key: str) -> dict[str, list[Record]]:
    out: dict[str, list[Record]] = defaultdict(list)
    for r in records:
        out[r[key]].append(r)
    return dict(sorted(out.items()))


def _group2(records: list[Record], a: str, b: str) -> dict[tuple[str, str], list[Record]]:
    out: dict[tuple[str, str], list[Record]] = defaultdict(list)
    for r in records:
        out[(r[a], r[b] or r["label"])].append(r)
    return dict(sorted(out.items()))


def summary_rows(results: Record) -> list[Record]:
    """One row per headline figure, for all files and the held-out ones."""
    rows: list[Record] = []

    def add(name: str, pair: Record, key: str, unit: str = "%", n: str = "n") -> None:
        rows.append({"figure": name, "unit": unit, "all": pair["all"][key], "held_out": pair["held_out"][key],
                     "n": pair["all"][n], "n_held_out": pair["held_out"][n]})

    rec = results.get("recognition")
    if rec:
        o = rec["overall"]
        add("recognition of known exercises", o, "accuracy_pct", n="known")
        add("other movements taken for a known exercise", o, "false_positive_pct", n="negatives")
        for short in rec["short_clips"]:
            seconds = short["all"]["seconds"]
            add(f"recognition of known exercises, {seconds:g} s clips", short, "accuracy_pct", n="known")
            add(f"other movements taken for a known exercise, {seconds:g} s clips", short, "false_positive_pct",
                n="negatives")
        delay = {k: o[k]["first_announcement_after_first_rep_s"] for k in ("all", "held_out")}
        rows.append({"figure": "first announcement after the first labelled rep, median", "unit": "s",
                     "all": delay["all"]["median"], "held_out": delay["held_out"]["median"],
                     "n": delay["all"]["announced"], "n_held_out": delay["held_out"]["announced"]})
    reps = results.get("reps")
    if reps:
        for mode, label in (("manual", "exercise chosen"), ("auto", "auto, end to end")):
            o = reps[mode]["overall"]
            add(f"reps exact ({label})", o, "exact_pct")
            add(f"reps within 1 ({label})", o, "within_1_pct")
            add(f"reps mean absolute error per set ({label})", o, "mae", "reps")
            add(f"reps mean absolute error over the true count, RepCount-A's MAE ({label})", o, "normalised_mae", "")
            add(f"reps exact, sets labelled with at least one rep ({label})", reps[mode]["labelled_reps"],
                "exact_pct")
    form = results.get("form")
    if form:
        for source, figures in form["push_up_clips"].items():
            add(f"push-up form F1, {source}", figures, "f1", "")
        if form["push_up_frames"]["all"]["n"]:
            add("push-up form F1, single frames (rules on one frame)", form["push_up_frames"], "f1", "")
        if form["plank_frames"]["all"]["n"]:
            add("plank form accuracy, single frames held 2 s", form["plank_frames"], "accuracy_pct")
            add("plank form F1, single frames held 2 s", form["plank_frames"], "f1", "")
    phase = results.get("phase")
    if phase:
        add("phase accuracy, learned model, every labelled single frame held still", phase["overall"],
            "learned_accuracy_pct", n="frames")
        add("phase accuracy, measurable single frames", phase["overall"], "accuracy_pct", n="frames")
        add("phase: single frames not measurable", phase["overall"], "not_measurable_pct", n="frames")
    gen = results.get("generated")
    if gen:
        for key, n, name in (
                ("recognised_pct", "clips", "generated clips recognised (nothing named for an unknown movement)"),
                ("reps_exact_pct", "reps_clips", "generated reps exact"),
                ("faults_as_expected_pct", "faults_clips", "generated faults as injected (none when clean)")):
            rows.append({"figure": name, "unit": "%", "all": gen[key], "held_out": None, "n": gen[n],
                         "n_held_out": None})
    return rows


# ---- running and printing --------------------------------------------------------------------------

def run(options: Options) -> Record:
    """Every selected section's figures (JSON-ready), computing pose for uncached videos first."""
    root = real_data_root()
    if root is None:
        raise SystemExit("error: the real development set is not here (../shared/data/real or COACH_REAL_DATA)")
    pin_caches()
    started = time.perf_counter()
    data = RealData(root)
    entries = {e["path"]: e for e in data.manifest["files"]}
    videos = {v.rel: v for v in data.videos()} if options.videos else {}
    stages = plan(data, options)
    needs_pose = any(t[0] in ("video", "detect") for t in stages["analyse"] + stages["detect"])
    model_sha = video_poses.pose_model_sha() if needs_pose else None
    cost = task_cost(entries, videos)
    cores = len(os.sched_getaffinity(0))
    seconds: Record = {}
    if stages["detect"]:
        t0 = time.perf_counter()
        run_tasks(stages["detect"], cost, (root, max(1, cores // options.processes)), options.processes,
                  "pose on videos", "frame", options.progress)
        seconds["pose"] = round(time.perf_counter() - t0, 1)
    t0 = time.perf_counter()
    done = run_tasks(stages["analyse"], cost, (root, 1), options.processes, "coaching", "frame",
                     options.progress)
    seconds["analysis"] = round(time.perf_counter() - t0, 1)

    kinds: dict[str, list[Record]] = defaultdict(list)
    for task, record in done:
        kinds["clip" if task[0] in ("sequence", "video") else task[0]].append(record)
    clips = sorted(kinds["clip"], key=lambda r: r["file"])
    results: Record = {}
    if "recognition" in options.sections:
        results["recognition"] = recognition_figures([r for r in clips if r["auto"] is not None], kinds["short"])
    if "reps" in options.sections:
        results["reps"] = reps_figures(clips)
    if "phase" in options.sections:
        results["phase"] = phase_figures(kinds["phase"])
    if "form" in options.sections:
        results["form"] = form_section(clips, kinds["pushup_frames"], kinds["plank"])
    if "generated" in options.sections:
        results["generated"] = generated_figures(kinds["generated"])
    results["summary"] = summary_rows(results)
    seconds["total"] = round(time.perf_counter() - started, 1)
    results["meta"] = {
        "options": asdict(options), "data_root": str(root),
        # None when the learned recogniser loaded; otherwise why "auto" recognises nothing in this run.
        "recognizer_error": FrameAnalyzer(pose=None).coach.recognizer_error,
        "pose_model": str(video_poses.pose_model_file()) if needs_pose else None,
        "pose_model_sha256": model_sha, "videos_posed_this_run": len(stages["detect"]), "seconds": seconds,
        "exercises_known": sorted(EXERCISES),
    }
    results["clips"] = clips
    # What each short clip was named, so two runs can be told apart clip by clip, not only in sum.
    results["short_clips"] = sorted(kinds["short"], key=lambda r: r["file"])
    return results


def _p(v: float | None, unit: str = "%") -> str:
    if v is None:
        return "-"
    return f"{v:.1f}{unit}" if unit == "%" else f"{v:.2f}{(' ' + unit) if unit else ''}"


def _ab(pair: Record, key: str, unit: str = "%") -> str:
    """'all (held-out)' in one cell."""
    return f"{_p(pair['all'][key], unit)} ({_p(pair['held_out'][key], unit)})"


def _nn(pair: Record, key: str = "n") -> str:
    return f"{pair['all'][key]} ({pair['held_out'][key]})"


def table(headers: list[str], rows: list[list[Any]]) -> None:
    print("| " + " | ".join(headers) + " |")
    print("|" + "|".join("---" for _ in headers) + "|")
    for row in rows:
        print("| " + " | ".join(str(c) for c in row) + " |")
    print()


def print_report(results: Record) -> None:
    if results["meta"]["recognizer_error"]:
        print(f"NOTE: no exercise recogniser in this run, so \"auto\" announces nothing: "
              f"{results['meta']['recognizer_error']}\n")
    print("Cells: all files (held-out files only).\n")
    rec = results.get("recognition")
    if rec:
        print("## Recognition (exercise on auto; the exercise announced for most of the clip)\n")
        rows = []
        for name, pair in [("all", rec["overall"]), *rec["by_source"].items()]:
            d = {k: pair[k]["first_announcement_after_first_rep_s"] for k in ("all", "held_out")}
            rows.append([name, _nn(pair, "known"), _ab(pair, "accuracy_pct"), _nn(pair, "negatives"),
                         _ab(pair, "false_positive_pct"),
                         f"{d['all']['announced']}/{d['all']['clips_with_rep_labels']}",
                         f"{_p(d['all']['median'], 's')} ({_p(d['held_out']['median'], 's')})",
                         _p(d["all"]["p90"], "s")])
        table(["source", "known-exercise clips", "recognised", "other-movement clips", "taken for an exercise",
               "announced / with rep labels", "first announcement after the 1st labelled rep (its end; "
               "WorkoutTracker: its one mark), median", "p90"], rows)
        rows = [[label, _nn(p, "known") if p["all"]["known"] else _nn(p, "negatives"),
                 _ab(p, "accuracy_pct") if p["all"]["known"] else "-",
                 _ab(p, "false_positive_pct") if p["all"]["negatives"] else "-",
                 ", ".join(f"{k} {v}" for k, v in Counter(rec["confusion"][label]).most_common())]
                for label, p in rec["by_label"].items()]
        table(["label", "clips", "recognised", "taken for an exercise", "announced (clips)"], rows)
        if rec["short_clips"]:
            print("Short clips cut from the count sequences, each coached as a recording of its own.\n")
            table(["length", "clips", "known exercises recognised", "other-movement clips", "taken for an exercise"],
                  [[f"{short['all']['seconds']:g} s", _nn(short, "known"), _ab(short, "accuracy_pct"),
                    _nn(short, "negatives"), _ab(short, "false_positive_pct")] for short in rec["short_clips"]])
        announced = sorted({a for c in rec["confusion"].values() for a in c}, key=lambda a: (a == NONE, a))
        table(["label \\ announced", *announced],
              [[label, *(c.get(a, "") for a in announced)] for label, c in rec["confusion"].items()])
    reps = results.get("reps")
    if reps:
        print("## Reps (RepCompleted events against the labelled count)\n")
        for mode, title in (("manual", "exercise chosen"), ("auto", "exercise on auto, end to end")):
            print(f"### {title}\n")
            rows = [[name, _nn(p), _ab(p, "exact_pct"), _ab(p, "within_1_pct"), _ab(p, "mae", ""),
                     _ab(p, "normalised_mae", ""), _ab(p, "bias", ""), p["all"]["true_reps"]]
                    for name, p in [("all", reps[mode]["overall"]),
                                    ("sets labelled with at least one rep", reps[mode]["labelled_reps"]),
                                    *reps[mode]["by_source"].items(),
                                    *reps[mode]["by_source_exercise"].items()]]
            table(["source / exercise", "sets", "exact", "within 1", "MAE", "MAE / true count", "mean error",
                   "true reps"], rows)
    phase = results.get("phase")
    if phase:
        print("## Phase on labelled single frames (coaching.frame_phase: the learned model's progress for the "
              "frame held still, and the exercise's own thresholds)\n")
        rows = [[name, _nn(p, "frames"), _ab(p, "learned_accuracy_pct"), _ab(p, "accuracy_pct"),
                 _ab(p, "not_measurable_pct"), _p(p["all"]["no_driver_for_view_pct"]),
                 ", ".join(f"{k} {v}" for k, v in p["all"]["views"].items())]
                for name, p in [("all", phase["overall"]), *phase["by_source_exercise"].items()]]
        table(["source / exercise", "frames", "learned model (every frame)", "thresholds (measurable)",
               "not measurable by thresholds", "no single-frame driver for the view", "views"], rows)
        cols = ["rest", "middle", "turn", NOT_MEASURABLE]
        for name, p in phase["by_source_exercise"].items():
            conf, learned = p["all"]["confusion"], p["all"]["learned_confusion"]
            print(f"{name}: label \\ thresholds, learned model")
            table(["label", *cols, *(f"learned: {c}" for c in cols[:3])],
                  [[t, *(conf[t].get(c, 0) for c in cols), *(learned.get(t, {}).get(c, 0) for c in cols[:3])]
                   for t in conf])
        for s in phase["skipped"]:
            print(f"skipped {s['file']}: {s['why']}")
        print()
    form = results.get("form")
    if form:
        print("## Form (wrong = positive)\n")
        rows = []
        for name, p in [*((f"{s}: any FaultDetected, push_up chosen", f) for s, f in form["push_up_clips"].items()),
                        ("gym push-up single frames: " + ", ".join(form["push_up_frames"]["rules"])
                         + " judged on one frame (range and start-relative rules need a rep)", form["push_up_frames"]),
                        ("gym plank single frames held 2 s, plank chosen: any FaultDetected", form["plank_frames"])]:
            if not p["all"]["n"]:
                continue
            a = p["all"]
            rows.append([name, _nn(p), a["wrong"], f"{a['tp']}/{a['fp']}/{a['fn']}/{a['tn']}", _ab(p, "precision", ""),
                         _ab(p, "recall", ""), _ab(p, "f1", ""), _ab(p, "accuracy_pct")])
        table(["verdict", "n", "wrong", "TP/FP/FN/TN", "precision", "recall", "F1", "accuracy"], rows)
        for s, f in form["push_up_clips"].items():
            for label, d in f["faults_by_label"].items():
                faults = ", ".join(f"{k} {v}" for k, v in sorted(d["faults"].items())) or "none"
                print(f"{s}, {label} clips ({d['clips']}): clips with each fault: {faults}")
        pf, pl = form["push_up_frames"], form["plank_frames"]
        if pf["all"]["n"]:
            print(f"push-up frames: no rule judgeable on {_p(pf['not_judgeable_pct'])}; fired {pf['faults_fired']}")
        if pl["all"]["n"]:
            print(f"plank frames: in the plank position on {_p(pl['in_position_pct'])}; fired {pl['faults_fired']}")
        print()
    gen = results.get("generated")
    if gen:
        print("## Generated sequences (regression check)\n")
        def mark(ok: bool | None) -> str:
            return "" if ok is None else " ok" if ok else " FAIL"

        rows = [[r["exercise"], r["view"], ", ".join(f"{k}={v}" for k, v in r["faults"].items()) or "clean",
                 f"skipped: {r['skipped']}", "", ""] if "skipped" in r else
                [r["exercise"], r["view"], ", ".join(f"{k}={v}" for k, v in r["faults"].items()) or "clean",
                 (r["recognised"] or NONE) + mark(r["ok_recognition"]),
                 ("-" if r["reps"] is None else f"{r['reps']}/{r['reps_true']}") + mark(r["ok_reps"]),
                 (", ".join(r["faults_fired"]) or "none") + mark(r["ok_faults"])]
                for r in gen["clips_detail"]]
        table(["exercise", "view", "injected", "recognised", "reps", "faults"], rows)
    print("## Summary\n")
    table(["figure", "all", "held-out", "n (held-out)"],
          [[r["figure"], _p(r["all"], r["unit"]), _p(r["held_out"], r["unit"]),
            f"{r['n']}" + ("" if r["n_held_out"] is None else f" ({r['n_held_out']})")] for r in results["summary"]])
    s = results["meta"]["seconds"]
    print(f"time: {s['total']:.0f} s (pose on videos {s.get('pose', 0):.0f} s, coaching {s['analysis']:.0f} s)")


def write_figures(results: Record, path: Path) -> None:
    """Every figure as JSON (its folder made if need be)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=1))
    print(f"figures written to {path}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sections", default=",".join(SECTIONS), help=f"comma-separated subset of {SECTIONS}")
    parser.add_argument("--limit", type=int, help="at most N files per source (quick runs)")
    parser.add_argument("--max-frames", type=int, help="at most N labelled single frames per file, evenly spaced")
    parser.add_argument("--no-videos", action="store_true", help="keypoint files only (no pose model)")
    parser.add_argument("--no-cache", action="store_true", help="run pose on the videos again and re-cache it")
    parser.add_argument("--processes", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON, help=f"write every figure here (default {DEFAULT_JSON})")
    args = parser.parse_args()
    sections = tuple(s.strip() for s in args.sections.split(",") if s.strip())
    unknown = set(sections) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown sections {sorted(unknown)}; choose from {SECTIONS}")
    results = run(Options(sections=sections, limit=args.limit, max_frames=args.max_frames, videos=not args.no_videos,
                          use_cache=not args.no_cache, processes=args.processes))
    print_report(results)
    write_figures(results, args.json)


if __name__ == "__main__":
    main()
