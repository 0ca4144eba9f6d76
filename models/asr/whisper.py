"""faster-whisper (CTranslate2) backend for both profiles.

Our VAD has already cut the utterance, so faster-whisper's own VAD is off, and each utterance is
transcribed on its own (`condition_on_previous_text=False`): carrying text across utterances is how
Whisper locks into repeating itself.
"""

from __future__ import annotations

import math
import time

import numpy as np

from models.asr.guard import clean_text, rejection_reason
from models.asr.options import AsrOptions
from models.asr.protocol import Transcript

SAMPLE_RATE = 16_000


class FasterWhisperRecognizer:
    """`SpeechRecognizer` on faster-whisper. Thread-safe: CTranslate2 queues concurrent calls and
    runs `num_workers` of them in parallel, so one instance serves every session."""

    def __init__(self, options: AsrOptions) -> None:
        from faster_whisper import WhisperModel

        self.options = options
        try:
            self._model = WhisperModel(
                options.model,
                device=options.device,
                compute_type=options.compute_type,
                cpu_threads=options.cpu_threads,
                num_workers=options.num_workers,
                download_root=str(options.download_root) if options.download_root else None,
            )
        except Exception as exc:  # missing files, no Hub access, no CUDA: say which model and why
            raise RuntimeError(f"cannot load Whisper model {options.model!r} on {options.device}: {exc}") from exc

    def transcribe(self, audio: np.ndarray, final: bool) -> Transcript:
        opts = self.options
        samples = np.asarray(audio, dtype=np.float32).reshape(-1)
        duration = samples.size / SAMPLE_RATE
        if samples.size == 0 or float(np.sqrt(np.mean(samples**2))) < opts.min_rms:
            return Transcript("", opts.language, 0.0, 1.0, duration, 0.0, final, dropped="silence")

        started = time.perf_counter()
        segments, info = self._model.transcribe(
            samples,
            language=opts.language,
            beam_size=opts.beam_size_final if final else opts.beam_size_partial,
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
        compute_s = time.perf_counter() - started

        text = clean_text(" ".join(s.text.strip() for s in segments))
        n_tokens = sum(len(s.tokens) for s in segments) or 1
        avg_logprob = sum(s.avg_logprob * len(s.tokens) for s in segments) / n_tokens if segments else -math.inf
        no_speech = max((s.no_speech_prob for s in segments), default=1.0)
        compression = max((s.compression_ratio for s in segments), default=0.0)
        reason = rejection_reason(
            text,
            avg_logprob=avg_logprob,
            no_speech_prob=no_speech,
            compression_ratio=compression,
            prompt=opts.initial_prompt,
            no_speech_threshold=opts.no_speech_threshold,
            log_prob_threshold=opts.log_prob_threshold,
            compression_ratio_threshold=opts.compression_ratio_threshold,
        )
        return Transcript(
            text="" if reason else text,
            language=info.language,
            avg_logprob=avg_logprob if segments else 0.0,
            no_speech_prob=no_speech,
            duration=duration,
            compute_s=compute_s,
            final=final,
            dropped=reason,
        )
