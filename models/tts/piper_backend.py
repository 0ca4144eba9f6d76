"""Piper (VITS in ONNX) backend: the embedded voice, about 30x faster than real time on one core.

Piper turns text into phonemes with espeak-ng, whose C library keeps global state and is not
thread-safe, so phonemisation runs under a process-wide lock; the ONNX inference that follows runs
unlocked (`InferenceSession.run` is thread-safe). Audio is produced one sentence at a time (VITS
needs the whole sentence), so feed it short chunks from `SentenceChunker` for an early first sound.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator

import numpy as np

from models.tts.normalize import normalize_for_speech
from models.tts.options import TtsOptions
from models.tts.protocol import AudioChunk

_ESPEAK_LOCK = threading.Lock()


class PiperSynthesizer:
    """`SpeechSynthesizer` over a Piper voice; one instance serves every session."""

    def __init__(self, options: TtsOptions) -> None:
        import onnxruntime as ort
        from piper import PiperVoice, SynthesisConfig
        from piper.config import PiperConfig

        self.options = options
        config_path = options.config_path or options.model_path.with_name(options.model_path.name + ".json")
        if not options.model_path.is_file() or not config_path.is_file():
            raise FileNotFoundError(f"Piper voice not found at {options.model_path}; run the setup step (prepare_embedded)")
        session_options = ort.SessionOptions()
        session_options.intra_op_num_threads = options.threads
        session_options.inter_op_num_threads = 1
        # An idle worker thread sleeps instead of spinning: it would take the core the LLM is
        # writing the next sentence on.
        session_options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        providers = ["CUDAExecutionProvider", "CPUExecutionProvider"] if options.use_cuda else ["CPUExecutionProvider"]
        self._voice = PiperVoice(
            session=ort.InferenceSession(str(options.model_path), sess_options=session_options, providers=providers),
            config=PiperConfig.from_dict(json.loads(config_path.read_text(encoding="utf-8"))),
        )
        self._syn_config = SynthesisConfig(
            length_scale=options.length_scale,
            noise_scale=options.noise_scale,
            noise_w_scale=options.noise_w_scale,
            normalize_audio=False,
        )
        self.sample_rate: int = self._voice.config.sample_rate
        # A Piper voice speaks the one language it was trained on (its config's language family).
        family = json.loads(config_path.read_text(encoding="utf-8")).get("language", {}).get("family", "en")
        self.languages: frozenset[str] = frozenset({family})
        self._pause = np.zeros(int(self.sample_rate * options.sentence_pause_ms / 1000), dtype=np.int16)

    def synthesize(self, text: str, language: str | None = None) -> Iterator[AudioChunk]:
        """`language` is the voice's own (see `languages`): a Piper voice has one."""
        speakable = normalize_for_speech(text)
        if not speakable:
            return
        with _ESPEAK_LOCK:
            sentences = self._voice.phonemize(speakable)
        for phonemes in sentences:
            if not phonemes:
                continue
            ids = self._voice.phonemes_to_ids(phonemes)
            audio = self._voice.phoneme_ids_to_audio(ids, self._syn_config)
            pcm = np.clip(np.asarray(audio, dtype=np.float32) * self.options.volume * 32767.0, -32768, 32767)
            yield AudioChunk(np.concatenate([pcm.astype(np.int16), self._pause]), self.sample_rate, speakable)
