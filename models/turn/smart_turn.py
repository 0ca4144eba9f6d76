"""Smart Turn v3.2 (Pipecat's open end-of-turn model, BSD-2-Clause) run with onnxruntime.

The model hears the last 8 s of a turn (16 kHz, zero-padded at the front) as Whisper log-mel
features and gives the probability that the speaker has finished: it hears intonation and
rhythm, which a silence timer cannot. Features come from faster-whisper's own extractor (already
loaded for speech recognition), checked to equal those of Pipecat's reference implementation to
float precision.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from faster_whisper.feature_extractor import FeatureExtractor

from models.pose.session import create_session

SAMPLE_RATE = 16_000
WINDOW_S = 8
FRAMES = WINDOW_S * SAMPLE_RATE // 160  # 800 mel frames of 10 ms
MODEL_SHA256 = "2bb026316b14a660486a75b1733cd3fbab8c2fd0314dc9af7be49f8cca967e4f"


class SmartTurn:
    """One onnxruntime session shared by every voice session (`run` is thread-safe)."""

    def __init__(self, model_path: Path, threads: int = 1) -> None:
        if not Path(model_path).is_file():
            raise FileNotFoundError(f"Smart Turn model not found at {model_path}; run the setup step (prepare_embedded)")
        self._session = create_session(Path(model_path), threads, ["CPUExecutionProvider"])
        self._features = FeatureExtractor(feature_size=80, sampling_rate=SAMPLE_RATE, hop_length=160,
                                          chunk_length=WINDOW_S, n_fft=400)
        self.model_path = Path(model_path)

    def probability(self, audio: np.ndarray) -> float:
        """Probability that the speech in `audio` (16 kHz float32, ending in the pause) is a finished turn."""
        window = WINDOW_S * SAMPLE_RATE
        samples = np.asarray(audio, dtype=np.float32).reshape(-1)[-window:]
        samples = np.pad(samples, (window - samples.size, 0))
        # Whisper's feature extractor normalises the waveform to zero mean and unit variance first.
        samples = (samples - samples.mean()) / np.sqrt(samples.var() + 1e-7)
        mel = self._features(samples, padding=0)[:, :FRAMES]
        out = self._session.run(None, {"input_features": mel[np.newaxis].astype(np.float32, copy=False)})[0]
        return float(out.reshape(-1)[0])
