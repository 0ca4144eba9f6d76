"""Whisper settings for the two profiles, with the trade-offs measured on the 2-core CPU."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field

from models.asr.prepare import embedded_model_dir

FITNESS_PROMPT = "A workout coach and an athlete talk about squats, lunges, push-ups, planks, reps, sets and depth."
"""Biases Whisper toward gym words it otherwise mishears ("squat" -> "swap")."""

FULL_MODEL = "large-v3"
"""faster-whisper resolves this to the Hub repo `Systran/faster-whisper-large-v3`."""


class AsrOptions(BaseModel):
    """faster-whisper model and decoding options.

    Both partials and finals use beam search: beam 5 heard "How is my squat depth?" where greedy
    heard "how is my swap step", and a partial transcript is not only shown: it picks the coaching
    note the LLM reads while the person is still talking, so a misheard partial ("Why do you mind
    these caving?") costs the reply ~0.5 s of reading once the final transcript finds the right note.
    With a fitted encoder window the decoder is the smaller part: beam 5 costs ~25 ms more than
    greedy on a question. A single temperature (no fallback) keeps the latency bounded: the fallback
    re-decodes noise up to six times.
    """

    model: str = Field(..., description="CTranslate2 model directory, faster-whisper size name, or Hub id.")
    device: str = Field("cpu", description="'cpu', 'cuda' or 'auto'.")
    compute_type: str = Field("int8", description="int8 on CPU; float16 on CUDA.")
    cpu_fallback: bool = Field(
        True, description="When the device is not the CPU and the model cannot load there (no GPU, no CUDA "
        "libraries, out of memory), load it on the CPU with `cpu_compute_type` instead of leaving the family "
        "unavailable; /health says why.")
    cpu_compute_type: str = Field("int8", description="Compute type of the CPU fallback.")
    cpu_threads: int = Field(
        1, description="Threads per transcription. 1: tiny.en is too small to share out, and 2 threads were ~30% "
        "slower here (beam 5 on a question: 136-145 vs 195-201 ms), and took the core the LLM reads on.")
    num_workers: int = Field(
        2, description="Concurrent transcriptions CTranslate2 runs in parallel: 2, so a final transcript never "
        "queues behind a partial one that is still decoding.")
    language: str | None = Field("en", description="Fixed language (tiny.en is English only); None detects.")
    encoder_window_s: float | None = Field(
        6.0,
        description="The encoder reads this much audio (or the utterance plus 1 s, if longer) instead of "
        "Whisper's fixed 30 s window, mostly padding for a spoken question. Measured on tiny.en here "
        "(benchmarks/asr_window.py, one thread, beam 5): 112 ms a question against 127 ms at 10 s and 537 ms "
        "at 30 s, at the same word error rate, and in the live benchmark partial transcripts come sooner "
        "(voice-to-voice median 1.35-1.46 s against 1.71 s at 10 s). Shorter windows make Whisper repeat "
        "a question more often, which `said_once` undoes. With `language` None the language is detected on "
        "that window too (the multilingual base on one thread: 0.11-0.34 s a question against 1.1-1.5 s "
        "at 30 s, as sure of the language). None: always 30 s.",
    )
    beam_size_final: int = 5
    beam_size_partial: int = 5
    temperature: float = 0.0
    initial_prompt: str | None = Field(FITNESS_PROMPT, description="Domain vocabulary prompt; None to disable.")
    no_speech_threshold: float = Field(0.6, description="No-speech probability above which, together with ...")
    log_prob_threshold: float = Field(-1.0, description="... an average log-probability below this, a text is silence.")
    compression_ratio_threshold: float = Field(2.4, description="gzip ratio above which a text is a repetition loop.")
    min_rms: float = Field(0.002, description="Audio quieter than this (float RMS) is silence: Whisper is not run.")
    download_root: Path | None = Field(None, description="Hub cache for the full profile (models/weights/hf).")


def embedded_options(weights: Path) -> AsrOptions:
    """Whisper tiny.en, int8, 1 thread, from `weights/asr/whisper-tiny.en` (see prepare_embedded)."""
    return AsrOptions(model=str(embedded_model_dir(weights)))


def full_options(weights: Path) -> AsrOptions:
    """Whisper large-v3 on CUDA float16 from the Hub (cached under `weights/hf`)."""
    return AsrOptions(
        model=FULL_MODEL,
        device="cuda",
        compute_type="float16",
        language=None,
        download_root=weights / "hf",
    )
