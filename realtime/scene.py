"""The full profile's slower readings of one session's camera, beside the per-frame analysis.

Three model families look at what the vision loop already has, each at its own low rate, on the
scene worker (never on the vision thread, which only hands over what it analysed):
- 3D lifting (MotionBERT-Lite): the subject's recent 2D keypoints to 3D joints, measured where 2D
  cannot (depth seen from the front, knee tracking from any view);
- video Swin: a clip of the last second of frames to the movement's phase and a technique reading,
  through the head `scripts/train_video_head.py` fits on the real development videos;
- BLIP-2: a caption of the scene every few seconds ("a man holding dumbbells in a living room").
What they find becomes fact lines the responder reads beside the measured ones. A family that is
not loaded (the embedded profile, weights missing) is simply not read.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

if TYPE_CHECKING:  # torch comes with these: imported when a family is loaded, not by every server
    from models.lifting import Measures3D, MotionLifter
    from models.video import ClipFeatures, ClipHead, ClipReading

log = logging.getLogger(__name__)

TICK_S = 0.1
LIFT_EVERY_S = 0.25
CLIP_EVERY_S = 1.0
RECENT_S = 10.0  # the 3D extremes the facts report: the last rep or two


@dataclass(frozen=True)
class LoadedLifting:
    """The lifting family as the hub holds it: one network shared by every session's lifter."""

    model: Any  # models.lifting.DSTformer, already on its device
    options: Any  # models.lifting.LiftingOptions


@dataclass(frozen=True)
class LoadedVideo:
    """The video family: the backbone, and the head fitted on its features (None: none fitted yet)."""

    features: ClipFeatures
    head: ClipHead | None


class Captioner(Protocol):
    def caption(self, image_bgr: np.ndarray) -> str: ...


class SceneModels(Protocol):
    """What the scene reader takes from the model hub."""

    lifting: LoadedLifting | None
    video: LoadedVideo | None
    caption: Captioner | None
    scene_pool: Executor

    @property
    def caption_every_s(self) -> float: ...


class SceneReader:
    """One session's scene readings. `offer` is called from the vision thread, `run` is the task."""

    def __init__(self, models: SceneModels, clock: Callable[[], float] = time.monotonic) -> None:
        self.models = models
        self.clock = clock
        self._lock = threading.Lock()
        self._keypoints: deque[tuple[np.ndarray, int, int]] = deque()  # pushed to the lifter on its turn
        self._subject: int | None = None
        self._reset_lifter = False
        self._lifter: MotionLifter | None = None
        self._crops: deque[np.ndarray] = deque()
        self._last_crop_t = -1e9
        self._frame: np.ndarray | None = None
        self._recent_3d: deque[tuple[float, Measures3D]] = deque()
        self._clip: ClipReading | None = None
        self._caption = ""
        self._due = {"lift": 0.0, "clip": 0.0, "caption": 0.0}
        self.errors = 0

    # ------------------------------------------------------------------ from the vision thread

    def offer(self, image_bgr: np.ndarray, keypoints: np.ndarray | None, subject: int | None, t: float) -> None:
        """The frame just analysed and its subject's (17, 3) keypoints (None: nobody): cheap, no model."""
        height, width = image_bgr.shape[:2]
        video = self.models.video
        crop = None
        if video is not None and t - self._last_crop_t >= 1.0 / video.features.options.sample_rate_hz:
            crop = video.features.crop(image_bgr)  # ~1 ms: the clip buffer holds crops, not frames
            self._last_crop_t = t
        with self._lock:
            self._frame = image_bgr
            if crop is not None:
                self._crops.append(crop)
                while len(self._crops) > video.features.options.clip_length:
                    self._crops.popleft()
            if self.models.lifting is not None and keypoints is not None:
                if subject != self._subject:
                    self._subject, self._reset_lifter = subject, True
                    self._keypoints.clear()
                self._keypoints.append((keypoints, width, height))
                while len(self._keypoints) > self.models.lifting.options.window:
                    self._keypoints.popleft()

    # ------------------------------------------------------------------ the session's task

    async def run(self) -> None:
        """Read whatever is due, one model call at a time on the scene worker; a model that throws is
        logged and read again on its next turn. A reading that takes longer than half its interval
        (a family on the CPU fallback: 0.65 s a lift, 1.1 s a clip on a 2-core VM) waits as long
        again before the next, so the scene never takes more than half a core per family."""
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(TICK_S)
            for job, every in (("lift", LIFT_EVERY_S), ("clip", CLIP_EVERY_S),
                               ("caption", self.models.caption_every_s)):
                start = self.clock()
                if start < self._due[job]:
                    continue
                started = time.monotonic()
                try:
                    await loop.run_in_executor(self.models.scene_pool, getattr(self, f"_read_{job}"))
                except Exception:  # one bad reading must not end the others
                    self.errors += 1
                    log.exception("scene reading %s failed", job)
                self._due[job] = start + max(every, 2 * (time.monotonic() - started))

    def _read_lift(self) -> None:
        lifting = self.models.lifting
        if lifting is None:
            return
        with self._lock:
            pending, self._keypoints = list(self._keypoints), deque()
            reset, self._reset_lifter = self._reset_lifter, False
        from models.lifting import MotionLifter, measure

        if self._lifter is None:
            self._lifter = MotionLifter(lifting.model, lifting.options)
        if reset:
            self._lifter.reset()
        for keypoints, width, height in pending:
            self._lifter.push(keypoints, width, height)
        lifted = self._lifter.lift()
        if lifted is None:
            return
        now = self.clock()
        with self._lock:
            self._recent_3d.append((now, measure(lifted.joints)))
            while self._recent_3d and self._recent_3d[0][0] < now - RECENT_S:
                self._recent_3d.popleft()

    def _read_clip(self) -> None:
        video = self.models.video
        if video is None or video.head is None:
            return
        with self._lock:
            crops = list(self._crops)
        if len(crops) < video.features.options.clip_length:
            return
        feature = video.features.features_of_crops(np.stack(crops)[None])[0]
        reading = video.head.predict(feature)
        with self._lock:
            self._clip = reading

    def _read_caption(self) -> None:
        captioner = self.models.caption
        with self._lock:
            frame = self._frame
        if captioner is None or frame is None:
            return
        text = captioner.caption(frame)
        with self._lock:
            self._caption = text

    # ------------------------------------------------------------------ for the responder

    def fact_lines(self) -> list[str]:
        """What the scene models found, as lines beside the measured facts (any thread)."""
        with self._lock:
            recent = [m for _, m in self._recent_3d]
            clip, caption = self._clip, self._caption
        lines = []
        if recent:
            lines.append(_lines_3d(recent))
        if clip is not None:
            lines.append(f"Video model on the last second: phase {clip.phase} "
                         f"({clip.phase_probabilities[clip.phase]:.0%}), technique looks {clip.technique} "
                         f"({clip.technique_probabilities[clip.technique]:.0%})")
        if caption:
            lines.append(f"What the camera shows: {caption}")
        return lines


def _lines_3d(recent: list[Measures3D]) -> str:
    """The last seconds' 3D extremes: the lowest hips, the most bent knee, the most caved knee."""
    deepest = float(np.nanmin([m.squat_depth for m in recent]))
    knee = float(np.nanmin([[m.knee_angle_left, m.knee_angle_right] for m in recent]))
    inward = float(np.nanmax([[m.knee_inward_left, m.knee_inward_right] for m in recent]))
    lean = float(np.nanmax([m.trunk_lean for m in recent]))
    return (f"3D pose over the last {RECENT_S:.0f} s: at the lowest the hips were {abs(deepest):.2f} thigh lengths "
            f"{'below' if deepest < 0 else 'above'} the knees, knees bent to {knee:.0f} degrees, a knee up to "
            f"{abs(inward):.2f} shin lengths {'inside' if inward > 0 else 'outside'} its hip-ankle line, "
            f"trunk leaning up to {lean:.0f} degrees")
