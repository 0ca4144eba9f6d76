"""faster-whisper (CTranslate2) backend for both profiles.

Our VAD has already cut the utterance, so faster-whisper's own VAD is off, and each utterance is
transcribed on its own (`condition_on_previous_text=False`): carrying text across utterances is how
Whisper locks into repeating itself.

Whisper's encoder always reads 30 s, so a two-second question is mostly padding, and on 2 cores
that padding is most of the cost. For utterances that fit, the encoder reads a shorter window
(`encoder_window_s`, like whisper.cpp's `audio_ctx`): the same faster-whisper feature extractor,
prompt, tokenizer and CTranslate2 model, one decode without the 30 s seek loop; a multilingual
model with no language set detects it on that window first. Asked for
(`unclosed`, the transcript of a pause the end of turn judges), that path also reads the window a
second time with the closing marks suppressed (`Transcript.unclosed_text`): the decoder alone,
10-40 ms for tiny.en here, with the transcript's beam (greedy decoding looped more and brought
fewer of the dropped words back).
"""

from __future__ import annotations

import logging
import math
import re
import time
from dataclasses import dataclass

import numpy as np

from models.asr.guard import clean_text, rejection_reason, said_once
from models.asr.options import AsrOptions
from models.asr.protocol import Transcript

SAMPLE_RATE = 16_000
log = logging.getLogger(__name__)
_UNCLOSED_EXTRA_TOKENS = 8  # the unclosed reading may run this much longer than the transcript, not loop


@dataclass(frozen=True)
class _Decoded:
    text: str
    language: str | None
    avg_logprob: float
    no_speech_prob: float
    compression_ratio: float | None  # None: of the text once cleaned (see `transcribe`)
    language_probability: float = 1.0
    unclosed: str | None = None  # the reading with the closing marks suppressed (windowed path only)


class FasterWhisperRecognizer:
    """`SpeechRecognizer` on faster-whisper. Thread-safe: CTranslate2 queues concurrent calls and
    runs `num_workers` of them in parallel, so one instance serves every session."""

    def __init__(self, options: AsrOptions) -> None:
        self.options = options
        self.device, self.compute_type = options.device, options.compute_type
        self.fallback_reason: str | None = None
        """Why the model runs on the CPU although another device was asked for (None: as asked)."""
        try:
            self._model = self._load(options.device, options.compute_type)
        except Exception as exc:  # missing files, no Hub access, no CUDA: say which model and why
            if options.device == "cpu" or not options.cpu_fallback:
                raise RuntimeError(f"cannot load Whisper model {options.model!r} on {options.device}: {exc}") from exc
            # No GPU, no CUDA libraries or out of its memory: the same model on the CPU is slower, not wrong.
            self.fallback_reason = f"{options.device} unavailable ({type(exc).__name__}: {str(exc)[:200]})"
            log.warning("Whisper %s: %s; running on the CPU (%s)", options.model, self.fallback_reason,
                        options.cpu_compute_type)
            self.device, self.compute_type = "cpu", options.cpu_compute_type
            try:
                self._model = self._load(self.device, self.compute_type)
            except Exception as cpu_exc:
                raise RuntimeError(f"cannot load Whisper model {options.model!r} on {options.device} ({exc}) "
                                   f"nor on the CPU: {cpu_exc}") from cpu_exc
        self._windowed = options.encoder_window_s is not None and not options.temperature
        self._detects = options.language is None and self._model.model.is_multilingual
        if self._windowed:
            from faster_whisper.tokenizer import Tokenizer
            from faster_whisper.transcribe import get_suppressed_tokens

            model = self._model
            self._tokenizer = Tokenizer(model.hf_tokenizer, model.model.is_multilingual, task="transcribe",
                                        language=options.language or "en")
            self._previous = self._tokenizer.encode(" " + options.initial_prompt.strip()) if options.initial_prompt else []
            self._prompts: dict[str, list[int]] = {}  # per language: the language token is in the prompt
            self._suppress = list(get_suppressed_tokens(self._tokenizer, [-1]))
            self._closing = _closing_tokens(self._tokenizer)
            self._suppress_closing = self._suppress + sorted(self._closing)  # for the unclosed reading

    def _load(self, device: str, compute_type: str):  # noqa: ANN202 - faster_whisper.WhisperModel
        from faster_whisper import WhisperModel

        options = self.options
        return WhisperModel(
            options.model,
            device=device,
            compute_type=compute_type,
            cpu_threads=options.cpu_threads,
            num_workers=options.num_workers,
            download_root=str(options.download_root) if options.download_root else None,
        )

    def transcribe(self, audio: np.ndarray, final: bool, unclosed: bool = False) -> Transcript:
        opts = self.options
        samples = np.asarray(audio, dtype=np.float32).reshape(-1)
        duration = samples.size / SAMPLE_RATE
        if samples.size == 0 or float(np.sqrt(np.mean(samples**2))) < opts.min_rms:
            return Transcript("", opts.language, 0.0, 1.0, duration, 0.0, final, dropped="silence")

        started = time.perf_counter()
        beam = opts.beam_size_final if final else opts.beam_size_partial
        window = self._window_s(duration)
        decoded = self._decode_window(samples, beam, window, unclosed) if window else self._decode_30s(samples, beam)
        compute_s = time.perf_counter() - started

        # Annotations out first: "How deep? How deep? (music)" is still the question said twice, and
        # kept once it is no repetition loop (its compression ratio is that of the question).
        text = said_once(clean_text(decoded.text))
        ratio = decoded.compression_ratio if decoded.compression_ratio is not None else _compression_ratio(text)
        reason = rejection_reason(
            text,
            avg_logprob=decoded.avg_logprob,
            no_speech_prob=decoded.no_speech_prob,
            compression_ratio=ratio,
            prompt=opts.initial_prompt,
            no_speech_threshold=opts.no_speech_threshold,
            log_prob_threshold=opts.log_prob_threshold,
            compression_ratio_threshold=opts.compression_ratio_threshold,
        )
        reading = said_once(clean_text(decoded.unclosed)) if decoded.unclosed and not reason else None
        return Transcript(
            text="" if reason else text,
            language=decoded.language,
            avg_logprob=decoded.avg_logprob,
            no_speech_prob=decoded.no_speech_prob,
            duration=duration,
            compute_s=compute_s,
            final=final,
            dropped=reason,
            language_probability=decoded.language_probability,
            unclosed_text=reading or None,
        )

    def _window_s(self, duration: float) -> float | None:
        """Seconds the encoder reads for this utterance; None for Whisper's own 30 s path."""
        if not self._windowed:
            return None
        window = max(float(self.options.encoder_window_s or 0.0), math.ceil(duration + 1.0))
        return window if window < 30.0 else None

    def _decode_window(self, samples: np.ndarray, beam: int, window_s: float, unclosed: bool) -> _Decoded:
        from faster_whisper.audio import pad_or_trim

        model = self._model
        extractor = model.feature_extractor
        frames = int(window_s * extractor.sampling_rate / extractor.hop_length)
        encoded = model.encode(pad_or_trim(extractor(samples), frames))  # padded as faster-whisper pads
        language, sure = self.options.language or "en", 1.0
        if self._detects:  # on the window the encoder read: as sure as on 30 s here, ~1 s sooner on a CPU
            best, sure = model.model.detect_language(encoded)[0][0]
            language = best[2:-2]  # "<|fr|>"
        prompt = self._prompt(language)
        result = model.model.generate(
            encoded, [prompt], beam_size=beam, patience=1.0, length_penalty=1.0, max_length=model.max_length,
            return_scores=True, return_no_speech_prob=True, suppress_blank=True, suppress_tokens=self._suppress,
        )[0]
        tokens = result.sequences_ids[0]
        text = self._tokenizer.decode(tokens).strip()
        # The score is the length-normalised log-probability; faster-whisper's average counts the end token.
        avg_logprob = result.scores[0] * len(tokens) / (len(tokens) + 1) if tokens else -math.inf
        reading = None
        if unclosed and tokens and tokens[-1] in self._closing:  # read again, not allowed to close the sentence
            again = model.model.generate(
                encoded, [prompt], beam_size=beam, patience=1.0, length_penalty=1.0,
                max_length=len(prompt) + len(tokens) + _UNCLOSED_EXTRA_TOKENS,  # the prompt counts
                suppress_blank=True, suppress_tokens=self._suppress_closing,
            )[0]
            reading = self._tokenizer.decode(again.sequences_ids[0]).strip() if again.sequences_ids else None
        return _Decoded(text, language, avg_logprob, result.no_speech_prob, None, language_probability=sure,
                        unclosed=reading)

    def _prompt(self, language: str) -> list[int]:
        """The decoder's prompt for `language`: start of transcript, the language, the task, the gym prompt."""
        prompt = self._prompts.get(language)
        if prompt is None:
            from faster_whisper.tokenizer import Tokenizer

            model = self._model
            tokenizer = Tokenizer(model.hf_tokenizer, model.model.is_multilingual, task="transcribe", language=language)
            prompt = self._prompts[language] = model.get_prompt(tokenizer, self._previous, without_timestamps=True)
        return prompt

    def _decode_30s(self, samples: np.ndarray, beam: int) -> _Decoded:
        opts = self.options
        segments, info = self._model.transcribe(
            samples,
            language=opts.language,
            beam_size=beam,
            temperature=opts.temperature,
            condition_on_previous_text=False,
            vad_filter=False,
            initial_prompt=opts.initial_prompt,
            no_speech_threshold=opts.no_speech_threshold,
            log_prob_threshold=opts.log_prob_threshold,
            compression_ratio_threshold=opts.compression_ratio_threshold,
            without_timestamps=True,
        )
        segments = list(segments)  # decoding happens while iterating
        n_tokens = sum(len(s.tokens) for s in segments) or 1
        avg_logprob = sum(s.avg_logprob * len(s.tokens) for s in segments) / n_tokens if segments else 0.0
        return _Decoded(
            text=" ".join(s.text.strip() for s in segments),
            language=info.language,
            avg_logprob=avg_logprob,
            no_speech_prob=max((s.no_speech_prob for s in segments), default=1.0),
            compression_ratio=max((s.compression_ratio for s in segments), default=0.0),
            language_probability=info.language_probability if opts.language is None else 1.0,
        )


def _closing_tokens(tokenizer) -> frozenset[int]:  # noqa: ANN001 - faster_whisper.tokenizer.Tokenizer
    """The tokens that close a sentence: ".", "?", "!", "...", "?\"" and the like."""
    closing = re.compile(r"[.?!\u2026\u3002\uff1f\uff01]+[\"')\u201d]*")
    return frozenset(i for i in range(tokenizer.eot)
                     if (piece := tokenizer.decode([i]).strip()) and closing.fullmatch(piece))


def _compression_ratio(text: str) -> float:
    """gzip's ratio on `text`, as faster-whisper measures it: a loop compresses far better than speech."""
    from faster_whisper.transcribe import get_compression_ratio

    return float(get_compression_ratio(text)) if text else 0.0
