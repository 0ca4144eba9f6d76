"""Decoded video frames as the person filming them sees them.

A phone that records in portrait usually stores the picture sideways and a display matrix that says
how to turn it; players apply it, PyAV reports it (`VideoFrame.rotation`) and leaves the pixels as
stored. The pose model and the coaching's idea of up (gravity is +y) need the picture upright: a
squatting person read sideways looks like someone lying down.
"""

from __future__ import annotations

import av
import numpy as np


def upright_bgr(frame: av.VideoFrame) -> np.ndarray:
    """The frame as a BGR image, turned by its display rotation (counter-clockwise, degrees)."""
    image = frame.to_ndarray(format="bgr24")
    turns = round((frame.rotation or 0) / 90) % 4
    return np.ascontiguousarray(np.rot90(image, turns)) if turns else image
