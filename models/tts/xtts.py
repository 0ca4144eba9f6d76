"""XTTS-v2 (coqui-tts) backend for the full profile: multilingual, streamed, optionally cloning a voice.

Loaded through coqui's manual path (config, model, checkpoint directory) rather than its model
manager, whose first use asks on the terminal to accept the Coqui Public Model License: the server
cannot answer a prompt, so the licence is accepted in the settings instead (`accept_licence`).
Needs the `coqui-tts` package with torchaudio (and torchcodec from torch 2.9), and a GPU to speak in
real time; without them construction fails with a clear error.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from models.devices import place
from models.tts.normalize import normalize_for_speech
from models.tts.options import XttsOptions
from models.tts.protocol import AudioChunk
from models.tts.xtts_prepare import xtts_model_dir

log = logging.getLogger(__name__)

SAMPLE_RATE = 24_000

LICENCE_REFUSAL = (
    "XTTS-v2's weights are under the Coqui Public Model License 1.0.0 (non-commercial use only: "
    "https://coqui.ai/cpml). Read it, and if your use complies accept it in the settings: "
    "COACH_MODELS__TTS='{\"accept_licence\": true}' (XttsOptions.accept_licence)"
)

_XTTS_TO_WHISPER = {"zh-cn": "zh"}
"""XTTS names Chinese by its region; Whisper (and the rest of the server) by ISO 639-1 alone."""

_TEXT_FRONTENDS = {"zh": "pypinyin", "ja": "cutlet"}
"""Languages whose text coqui romanises with an optional package (coqui-tts[zh], coqui-tts[ja]):
without it the model cannot read that language's text, so it does not claim to speak it."""


class XttsSynthesizer:
    """`SpeechSynthesizer` over XTTS-v2's `inference_stream`; one model, turns serialised by a lock."""

    sample_rate: int = SAMPLE_RATE

    def __init__(self, options: XttsOptions) -> None:
        if not options.accept_licence:
            raise RuntimeError(LICENCE_REFUSAL)
        if options.speaker_wav is not None and not options.speaker_wav.is_file():
            raise RuntimeError(f"XTTS-v2 reference clip {options.speaker_wav} does not exist (speaker_wav)")
        try:
            from TTS.tts.configs.xtts_config import XttsConfig
            from TTS.tts.models.xtts import Xtts
        except (ImportError, OSError) as exc:  # OSError: a torchaudio built for another torch or CUDA
            reason = " ".join(str(exc).split())
            raise RuntimeError(
                "XTTS-v2 needs the coqui-tts package with torchaudio and torchcodec (full profile): "
                f"pip install coqui-tts==0.28.0 torchaudio torchcodec ({type(exc).__name__}: {reason})"
            ) from exc
        self.options = options
        self._lock = threading.Lock()
        directory = xtts_model_dir(options)
        self._config = XttsConfig()
        self._config.load_json(str(directory / "config.json"))
        model = Xtts(self._config)
        model.load_checkpoint(self._config, checkpoint_dir=str(directory), use_deepspeed=False)
        _pass_cache_as_past_key_values(model.gpt.gpt_inference)
        device, self.fallback_reason = place(model, options.device, "XTTS-v2")
        self.device = str(device)
        self._model = model
        self.languages: frozenset[str] = _speakable_languages(self._config.languages)
        if options.language not in self.languages:
            raise ValueError(f"XTTS-v2 default language {options.language!r} is not one it speaks here: "
                             f"{sorted(self.languages)}")
        if options.speaker_wav is not None:
            self._latent, self._embedding = self._clone(options.speaker_wav)
        else:
            self._latent, self._embedding = self._builtin_speaker(options.speaker)

    def synthesize(self, text: str, language: str | None = None) -> Iterator[AudioChunk]:
        """Speak `text` in `language` (one of `languages`; None: `options.language`), one chunk per
        `stream_chunk_size` GPT tokens. ValueError for a language it does not speak."""
        language = language or self.options.language
        if language not in self.languages:
            raise ValueError(f"XTTS-v2 does not speak {language!r} here; it speaks {sorted(self.languages)}")
        speakable = normalize_for_speech(text)
        if not speakable:
            return
        config = self._config
        with self._lock:
            for chunk in self._model.inference_stream(
                speakable,
                language,
                self._latent,
                self._embedding,
                stream_chunk_size=self.options.stream_chunk_size,
                temperature=config.temperature,
                length_penalty=config.length_penalty,
                repetition_penalty=config.repetition_penalty,
                top_k=config.top_k,
                top_p=config.top_p,
            ):
                audio = chunk.detach().float().cpu().numpy().reshape(-1)
                pcm = (np.clip(audio, -1.0, 1.0) * 32767.0).astype(np.int16)
                yield AudioChunk(pcm, SAMPLE_RATE, speakable)

    def _builtin_speaker(self, name: str) -> tuple[Any, Any]:
        """The conditioning of a speaker shipped with the checkpoint (speakers_xtts.pth)."""
        speakers = self._model.speaker_manager.speakers if self._model.speaker_manager is not None else {}
        if name not in speakers:
            raise RuntimeError(f"XTTS-v2 has no built-in speaker {name!r}; it has {sorted(speakers)[:10]} "
                               "(or set speaker_wav to clone a voice)")
        voice = speakers[name]
        return voice["gpt_cond_latent"].to(self.device), voice["speaker_embedding"].to(self.device)

    def _clone(self, clip: Path) -> tuple[Any, Any]:
        """The conditioning of the voice in a reference clip, as coqui's `get_conditioning_latents`
        computes it with the checkpoint's settings. The clip is read with soundfile: torchaudio's own
        loader goes through torchcodec, a native library tied to one torch and CUDA build, and the
        model resamples what it is given."""
        import soundfile
        import torch

        try:
            samples, rate = soundfile.read(str(clip), dtype="float32", always_2d=True)
        except Exception as exc:  # soundfile raises its own LibsndfileError, or RuntimeError
            raise RuntimeError(f"cannot read the XTTS-v2 reference clip {clip}: {exc}") from exc
        config = self._config
        audio = torch.from_numpy(samples.mean(axis=1))[None, : rate * config.max_ref_len].clamp(-1.0, 1.0)
        if config.sound_norm_refs:
            audio = audio / audio.abs().max() * 0.75
        try:
            embedding = self._model.get_speaker_embedding(audio, rate)
            latent = self._model.get_gpt_cond_latents(audio, rate, length=config.gpt_cond_len,
                                                      chunk_length=config.gpt_cond_chunk_len)
        except RuntimeError as exc:  # too short, or silent
            raise RuntimeError(f"cannot clone the voice in {clip}: {exc}") from exc
        return latent, embedding


def _pass_cache_as_past_key_values(inference: Any) -> None:
    """Let coqui's GPT-2 inference wrapper see the KV cache that transformers 5.25 hands it.

    transformers 5.x renamed the generation keyword `past_key_values` to `cache`; coqui-tts 0.28's
    `GPT2InferenceModel.forward` still names it `past_key_values`, so the cache would fall into its
    `**kwargs` and the second generated token would fail on None. Renaming it back on this one
    instance keeps coqui's code as it is; with an older transformers no `cache` is passed and this
    changes nothing.
    """
    forward = inference.forward

    def forward_with_cache(*args: Any, cache: Any = None, **kwargs: Any) -> Any:
        if cache is not None:
            kwargs["past_key_values"] = cache
        return forward(*args, **kwargs)

    inference.forward = forward_with_cache


def _speakable_languages(xtts_languages: list[str]) -> frozenset[str]:
    """The checkpoint's languages in Whisper's codes, less those whose text package is missing."""
    import importlib.util

    languages = {_XTTS_TO_WHISPER.get(code, code) for code in xtts_languages}
    unreadable = {lang for lang, package in _TEXT_FRONTENDS.items()
                  if lang in languages and importlib.util.find_spec(package) is None}
    if unreadable:
        log.info("XTTS-v2 cannot read %s text without %s", sorted(unreadable),
                 ", ".join(_TEXT_FRONTENDS[lang] for lang in sorted(unreadable)))
    return frozenset(languages - unreadable)
