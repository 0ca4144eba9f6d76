"""The embedding family's interface: text in, unit vectors out.

Retrieval compares vectors by dot product, so every backend returns float32 rows already
L2-normalised; a caller never needs to know which model produced them.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np


class EmbedderUnavailable(RuntimeError):
    """The model cannot be loaded here (weights missing, Hub offline); the message says why."""


@runtime_checkable
class Embedder(Protocol):
    """Anything that maps texts to a (len(texts), dim) float32 array of unit rows."""

    @property
    def dim(self) -> int: ...

    @property
    def model_id(self) -> str: ...

    def embed(self, texts: list[str]) -> np.ndarray: ...
