"""Which frames of a video make the clip that ends at a given frame.

Shared by the live loop and the training script, so the head sees at run time clips cut the way
its training clips were: `clip_length` frames at `sample_rate_hz`, the newest frame last.
"""

from __future__ import annotations

import numpy as np

from models.video.options import VideoOptions


def clip_indices(end: int, fps: float, options: VideoOptions) -> list[int]:
    """Frame indices (oldest first, `end` last) of the clip ending at frame `end` of a `fps` video.

    Frames are `fps / sample_rate_hz` apart (never closer than 1); before the video's start the
    first frame repeats, as the live loop has nothing older to show in its first second.
    """
    step = max(fps / options.sample_rate_hz, 1.0)
    offsets = np.round(np.arange(options.clip_length - 1, -1, -1) * step).astype(int)
    return [max(end - int(o), 0) for o in offsets]


def uniform_indices(count: int, length: int) -> list[int]:
    """`length` indices spread evenly over `count` frames, the first and last included (repeating
    frames when there are fewer than `length`)."""
    if count < 1:
        raise ValueError("a clip needs at least one frame")
    return np.round(np.linspace(0, count - 1, length)).astype(int).tolist()
