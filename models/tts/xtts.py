"""XTTS-v2 (coqui-tts) backend for the full profile: streamed, optionally cloning a reference voice.

Needs the `coqui-tts` package, torch with CUDA and the Hub (`tts_models/multilingual/multi-dataset/
xtts_v2` is downloaded on first use and its CPML licence must be accepted: COQUI_TOS_AGREED=1).
None of that exists on the embedded machines, where construction fails with a clear error.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import numpy as np

from models.tts.normalize import normalize_for_speech
from models.tts.options import XttsOptions
from models.tts.protocol import AudioChunk

SAMPLE_RATE = 24_000


class XttsSynthesizer:
    """`SpeechSynthesizer` over XTTS-v2's `inference_stream`; one GPU model, turns serialised by a lock."""

    sample_rate: int = SAMPLE_RATE

    def __init__(self, options: XttsOptions) -> None:
        try:
            from TTS.api import TTS
        except ImportError as exc:
            raise RuntimeError("XTTS-v2 needs the coqui-tts package (full profile): pip install coqui-tts") from exc
        self.options = options
        self._lock = threading.Lock()
        try:
            api = TTS(options.model_name).to(options.device)
        except Exception as exc:  # no Hub, licence not accepted, no CUDA
            raise RuntimeError(f"cannot load {options.model_name} on {options.device}: {exc}") from exc
        self._model = api.synthesizer.tts_model
        if options.speaker_wav is not None:
            self._latent, self._embedding = self._model.get_conditioning_latents(audio_path=[str(options.speaker_wav)])
        else:
            speaker = self._model.speaker_manager.speakers[options.speaker]
            self._latent, self._embedding = speaker["gpt_cond_latent"], speaker["speaker_embedding"]

    def synthesize(self, text: str) -> Iterator[AudioChunk]:
        speakable = normalize_for_speech(text)
        if not speakable:
            return
        with self._lock:
            for chunk in self._model.inference_stream(
                speakable,
                self.options.language,
                self._latent,
                self._embedding,
                stream_chunk_size=self.options.stream_chunk_size,
            ):
                audio = chunk.detach().float().cpu().numpy().reshape(-1)
                pcm = (np.clip(audio, -1.0, 1.0) * 32767.0).astype(np.int16)
                yield AudioChunk(pcm, SAMPLE_RATE, speakable)
