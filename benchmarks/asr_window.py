"""Whisper's encoder window: the fixed 30 s against a window fitted to the utterance.

    .venv/bin/python benchmarks/asr_window.py

Runs the embedded recogniser (tiny.en, int8, 1 thread) on spoken questions made with Piper and
espeak-ng (each with the silence the VAD leaves around an utterance), on a real human recording
(moonshine-voice's beckett.wav) and on noise and silence, once per encoder window, greedy and
beam 5 (what partials and finals use). Prints ms per question, word error rate and what was heard
in noise or silence.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import jiwer
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from models.asr import AsrOptions, FasterWhisperRecognizer, embedded_options  # noqa: E402
from models.paths import pin_caches, weights_dir  # noqa: E402
from tests.speech import espeak_speech, moonshine_speech, pad, piper_speech, white_noise  # noqa: E402

QUESTIONS = [
    "How many reps did I do?",
    "How is my squat depth?",
    "How should I breathe during a squat?",
    "How long should I rest between sets?",
    "Why do my knees cave in?",
    "Should I keep my back straight?",
    "What should I work on in my next set?",
    "Is my back rounding at the bottom?",
    "Tell me how deep my last squat was.",
    "How many push-ups should a beginner do?",
]
BECKETT = "Ever tried. Ever failed. No matter. Try again. Fail again. Fail better."
WINDOWS: dict[str, float | None] = {"30 s (Whisper's own)": None, "10 s or utterance + 1 s": 10.0,
                                    "6 s or utterance + 1 s (default)": 6.0, "5 s or utterance + 1 s": 5.0}


def normalise(text: str) -> str:
    return jiwer.RemovePunctuation()(text.lower().replace("-", " ")).strip()


def main() -> None:
    pin_caches()
    base = embedded_options(weights_dir())
    clips = {voice: [pad(make(q), 0.3, 0.2) for q in QUESTIONS]
             for voice, make in (("piper", piper_speech), ("espeak", espeak_speech))}
    human = moonshine_speech("beckett.wav")
    junk = {"noise": white_noise(2.0, level=0.05), "silence+hum": 0.01 * np.sin(np.arange(32_000) / 16_000 * 2 * np.pi * 50)}
    refs = [normalise(q) for q in QUESTIONS]

    print("| encoder window | decoding | ms per question (median) | WER piper | WER espeak | WER human | heard in noise / hum |")
    print("|---|---|---|---|---|---|---|")
    for name, window in WINDOWS.items():
        recognizer = FasterWhisperRecognizer(AsrOptions.model_validate({**base.model_dump(), "encoder_window_s": window}))
        recognizer.transcribe(clips["piper"][0], final=True)  # warm-up
        for beam in (1, 5):  # set as the final transcript's beam; partials use the same settings
            recognizer.options = recognizer.options.model_copy(update={"beam_size_final": beam})
            decoding, final = ("greedy" if beam == 1 else f"beam {beam}"), True
            times: list[float] = []
            wer: dict[str, float] = {}
            for voice, audio in clips.items():
                hyps = []
                for clip in audio:
                    started = time.perf_counter()
                    hyps.append(normalise(recognizer.transcribe(clip, final=final).text))
                    times.append(time.perf_counter() - started)
                wer[voice] = jiwer.wer(refs, hyps)
            human_wer = (jiwer.wer(normalise(BECKETT), normalise(recognizer.transcribe(human, final=final).text))
                         if human is not None else float("nan"))
            heard = " / ".join(repr(recognizer.transcribe(a, final=final).text) for a in junk.values())
            print(f"| {name} | {decoding} | {statistics.median(times) * 1000:.0f} | {wer['piper']:.3f} | "
                  f"{wer['espeak']:.3f} | {human_wer:.3f} | {heard} |", flush=True)


if __name__ == "__main__":
    main()
