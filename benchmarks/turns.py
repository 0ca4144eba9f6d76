"""Turn taking: how often a question is answered before it is finished, and how long a finished one waits.

Spoken questions stream through the server's own pieces (Silero VAD and the `Segmenter`, Whisper
tiny.en for the partial and pause transcripts, Smart Turn v3.2, the sentence model, `pause_end_ms`)
on the same schedule as the live loop: partial transcripts every 0.4 s while the person speaks,
each read ahead by the sentence model; the pause transcript at 64 ms of silence, then the sentence
model on its words as Whisper writes them when not allowed to close the sentence (`unclosed_text`);
Smart Turn at 150 ms (when the reply starts speculatively); the verdict counts once all have
finished (their measured compute time is added to the stream time; the partials and their reading
ahead run beside the speech and add none). Trials:

- mid-sentence pauses: a question stopped after a word it cannot end on ("What was my | tempo on
  the last set?"), a pause of 0.3-1.5 s, then the rest. Piper (joe, three speaking rates) says the
  whole sentence and is cut in the word gap, so the first part keeps its rising intonation; espeak-ng
  (four voices) pauses with an SSML break inside the sentence;
- complete questions followed by silence;
- each with and without a breath (band-limited noise, 0.35 s) in the pause or after the question.

A false cut-off is a turn ended in the mid-sentence pause; the end-of-turn delay runs from the last
sample of the finished question to the end of the turn. Policies, on the same audio: the VAD's
silence alone (0.5 s, as before Smart Turn), Smart Turn alone, the words alone, the sentence model
alone (each ending the turn at once when it says finished, else at the cap), Smart Turn and the
words without the sentence model (as before it), and all three as shipped (`turn_end.py`).

    .venv/bin/python benchmarks/turns.py [--quick] [--threshold 0.5] [--words-after-ms 700] [--cap-ms 1800]
        [--sentence-threshold 0.1]
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from models.asr import FasterWhisperRecognizer, embedded_options  # noqa: E402
from models.paths import pin_caches, weights_dir  # noqa: E402
from models.llm.prepare import embedded_model_path as llm_model_path  # noqa: E402
from models.turn import SentenceEnd, SmartTurn, TurnOptions  # noqa: E402
from models.turn import embedded_model_path as turn_model_path  # noqa: E402
from models.vad import SAMPLE_RATE, Segmenter, SileroVad, VadOptions  # noqa: E402
from models.vad import embedded_model_path as vad_model_path  # noqa: E402
from realtime.voice.options import ConversationOptions  # noqa: E402
from realtime.voice.turn_end import pause_end_ms, words_closed, words_unfinished  # noqa: E402
from realtime.voice.listener import MIN_PARTIAL_SAMPLES  # noqa: E402
from tests.speech import pad, piper_speech_paused, read_wav  # noqa: E402

VOICE = ConversationOptions()  # the server's defaults: when a partial transcript and the pause judgement start

# (question, words before the mid-sentence pause): each cut leaves a part that cannot end a sentence.
QUESTIONS = [
    ("What was my tempo on the last set?", (3, 6)),
    ("How should I breathe during a squat?", (3, 6)),
    ("How many reps did I do?", (4,)),
    ("Why do my knees cave in when I squat?", (3, 7)),
    ("Can you tell me how deep my last squat was?", (7,)),
    ("Is my back straight enough at the bottom?", (2, 6)),
    ("How long should I rest between sets?", (4,)),
    ("What should I do to fix my back?", (5,)),
    ("How do I keep my elbows in during push ups?", (6,)),
    ("Should I go heavier next week or stay at this weight?", (8,)),
]
PIPER_RATES = (0.85, 1.0, 1.2)
ESPEAK_VOICES = (("en-us", 150), ("en-gb", 170), ("en-us+f3", 160), ("en-gb-scotland", 150))
PAUSES_S = (0.3, 0.6, 1.0, 1.5)
LEAD_S, TAIL_S = 0.4, 2.5
VAD_ONLY_MS = 500  # the VAD's end of turn before Smart Turn (VadOptions.min_silence_ms)


@dataclass
class Pause:
    """One silence inside a trial, as the live loop would see it."""

    voiced_end: float  # stream time of the last voiced window before it
    length: float  # silence until the next voiced window (or the end of the trial)
    decided_at: float | None = None  # stream time of the verdict (None: speech came back first)
    probability: float | None = None
    words: str | None = None
    sentence_end: float | None = None  # the sentence model's reading of `words`


@dataclass
class Trial:
    voice: str
    question: str
    cut: int | None  # words before the mid-sentence pause; None: a complete question
    pause_s: float
    breath: bool
    resume_at: float | None  # stream time the second part starts (mid-sentence trials)
    question_end: float  # stream time of the question's last sample
    pauses: list[Pause]


def breath(seconds: float = 0.35, level: float = 0.02, seed: int = 0) -> np.ndarray:
    """An exhale: noise kept to 400-2500 Hz under a smooth envelope; not speech."""
    rng = np.random.default_rng(seed)
    n = int(seconds * SAMPLE_RATE)
    spectrum = np.fft.rfft(rng.standard_normal(n))
    freqs = np.fft.rfftfreq(n, 1 / SAMPLE_RATE)
    spectrum[(freqs < 400) | (freqs > 2500)] = 0
    noise = np.fft.irfft(spectrum, n)
    noise *= np.hanning(n) * level / (np.sqrt(np.mean(noise**2)) + 1e-9)
    return noise.astype(np.float32)


def espeak_parts(question: str, cut: int | None, voice: str, speed: int) -> tuple[np.ndarray, np.ndarray]:
    """espeak-ng saying the question, with an SSML break after `cut` words, split at that break."""
    words = question.split()
    if cut is None:
        ssml = f"<speak>{question}</speak>"
    else:
        ssml = f"<speak>{' '.join(words[:cut])} <break time=\"1500ms\"/> {' '.join(words[cut:])}</speak>"
    wav = subprocess.run(["espeak-ng", "-m", "-v", voice, "-s", str(speed), "--stdout", ssml],
                         capture_output=True, check=True).stdout
    audio = read_wav(wav)
    if cut is None:
        return audio, np.zeros(0, np.float32)
    quiet = np.convolve(np.abs(audio) > 1e-3, np.ones(SAMPLE_RATE // 10), "valid") == 0
    start = int(np.flatnonzero(quiet)[0])  # the first 100 ms of silence: the break
    rest = audio[start:]
    resume = int(np.flatnonzero(np.abs(rest) > 1e-3)[0])
    return audio[:start], rest[resume:]


def trim(audio: np.ndarray, level: float = 0.01) -> np.ndarray:
    loud = np.flatnonzero(np.abs(audio) > level)
    return audio[: loud[-1] + 1] if loud.size else audio


def build(voice: str, question: str, cut: int | None, pause_s: float, with_breath: bool
          ) -> tuple[np.ndarray, float | None, float]:
    """The trial's audio, when the second part resumes and when the question ends (stream seconds)."""
    if voice.startswith("piper"):
        rate = float(voice.split(":")[1])
        if cut is None:
            first, rest = piper_speech_paused(question, 1, 0.0, length_scale=rate)  # rejoined: the whole
            first, second = np.concatenate([first, rest]), np.zeros(0, np.float32)
        else:
            first, second = piper_speech_paused(question, cut, 0.0, length_scale=rate)
    else:
        name, speed = voice.split(":")
        first, second = espeak_parts(question, cut, name, int(speed))
    first = trim(first)
    gap = np.zeros(int((pause_s if cut is not None else TAIL_S) * SAMPLE_RATE), np.float32)
    if with_breath:
        puff = breath(min(0.35, max(0.1, pause_s - 0.1)) if cut is not None else 0.35)
        start = min(int(0.05 * SAMPLE_RATE), max(0, gap.size - puff.size))
        gap[start: start + puff.size] += puff
    lead = np.zeros(int(LEAD_S * SAMPLE_RATE), np.float32)
    if cut is None:
        return np.concatenate([lead, first, gap]), None, LEAD_S + first.size / SAMPLE_RATE
    second = trim(second)
    audio = pad(np.concatenate([lead, first, gap, second]), 0.0, TAIL_S)
    resume = LEAD_S + (first.size + gap.size) / SAMPLE_RATE
    return audio, resume, resume + second.size / SAMPLE_RATE


def run_trial(audio: np.ndarray, vad: SileroVad, asr: FasterWhisperRecognizer, turn: SmartTurn,
              sentence: SentenceEnd) -> list[Pause]:
    """Stream `audio` in 20 ms chunks through a segmenter that never ends a turn itself, and record
    each pause: its length, and the verdict inputs the live loop would have had."""
    segmenter = Segmenter(vad, VadOptions(), turn_end_ms=10**6)
    pauses: list[Pause] = []
    pending_transcript: tuple[float, float, str, float] | None = None  # (voiced_end, ready_at, words, sentence end)
    last_partial = float("-inf")
    now = 0.0
    chunk = SAMPLE_RATE // 50
    for i in range(0, audio.size, chunk):
        segmenter.push(audio[i: i + chunk])
        now = (i + chunk) / SAMPLE_RATE
        if not segmenter.in_speech:
            continue
        voiced_end, silence = segmenter.last_voiced_end, segmenter.silence_s
        if silence <= 0 and now - last_partial >= VOICE.partial_interval_s \
                and segmenter.current_audio().size >= MIN_PARTIAL_SAMPLES:
            last_partial = now  # a partial while they speak, read ahead by the sentence model
            sentence.probability(asr.transcribe(segmenter.current_audio(), False).text)
        if not pauses or pauses[-1].voiced_end != voiced_end:
            if silence <= 0:
                continue
            pauses.append(Pause(voiced_end, 0.0))
        pause = pauses[-1]
        pause.length = silence
        if silence >= VOICE.pause_partial_after_s and (pending_transcript is None
                                                         or pending_transcript[0] != voiced_end):
            started = time.perf_counter()
            heard = asr.transcribe(segmenter.current_audio(), False, unclosed=True)
            words = heard.text
            end = sentence.probability(heard.unclosed_text or words) if words else 0.0
            pending_transcript = (voiced_end, now + time.perf_counter() - started, words, end)
        if silence >= VOICE.speculate_after_silence_s and pause.probability is None and pending_transcript is not None:
            started = time.perf_counter()
            pause.probability = turn.probability(segmenter.current_audio())
            _, ready_at, pause.words, pause.sentence_end = pending_transcript
            pause.decided_at = max(now + time.perf_counter() - started, ready_at)
    for pause in pauses:  # a verdict due after speech came back is never given
        if pause.decided_at is not None and pause.decided_at > pause.voiced_end + pause.length:
            pause.decided_at = None
    return pauses


def turn_end(trial: Trial, policy: str, options: TurnOptions) -> float | None:
    """Stream time the turn ends under `policy` (None: it never ended)."""
    cap_s = options.silence_cap_ms / 1000
    for pause in trial.pauses:
        end_s = VAD_ONLY_MS / 1000 if policy == "vad" else cap_s
        if policy != "vad" and pause.decided_at is not None:
            if policy == "smart_turn":
                finished = pause.probability is not None and pause.probability >= options.threshold
                end_s = 0.0 if finished else cap_s
            elif policy == "words":
                finished = bool(pause.words) and not words_unfinished(pause.words) and words_closed(pause.words)
                end_s = 0.0 if finished else cap_s
            elif policy == "sentence":
                finished = pause.sentence_end is not None and pause.sentence_end >= options.sentence_threshold
                end_s = 0.0 if finished else cap_s
            elif policy == "before":
                end_s = pause_end_ms(pause.probability, pause.words, options) / 1000
            else:
                end_s = pause_end_ms(pause.probability, pause.words, options, pause.sentence_end) / 1000
            if end_s == 0.0:
                return pause.decided_at
            end_s = max(end_s, pause.decided_at - pause.voiced_end)
        if pause.length >= end_s:
            return pause.voiced_end + end_s
    return None


def summarise(trials: list[Trial], policy: str, options: TurnOptions) -> dict[str, float]:
    cut_off, delays = 0, []
    mid = [t for t in trials if t.cut is not None]
    for trial in trials:
        end = turn_end(trial, policy, options)
        if end is None:
            continue
        if trial.resume_at is not None and end < trial.resume_at:
            cut_off += 1
        elif end >= trial.question_end:
            delays.append(end - trial.question_end)
    return {
        "false_cutoff_pct": 100 * cut_off / max(1, len(mid)),
        "delay_median_ms": 1000 * statistics.median(delays) if delays else float("nan"),
        "delay_p90_ms": 1000 * float(np.percentile(delays, 90)) if delays else float("nan"),
        "n": len(trials),
    }


def report(trials: list[Trial], options: TurnOptions, pauses: tuple[float, ...]) -> None:
    """The table: each policy's false cut-offs and end-of-turn delay, by voice family and with breaths."""
    policies = [("vad", "VAD silence 0.5 s"), ("smart_turn", "Smart Turn alone"), ("words", "words alone"),
                ("sentence", "sentence model alone"), ("before", "Smart Turn and words"),
                ("shipped", "all three (shipped)")]
    print(f"\n{len(trials)} trials ({sum(t.cut is not None for t in trials)} with a mid-sentence pause), "
          f"Smart Turn bar {options.threshold}, words alone after {options.words_after_ms} ms, "
          f"silence cap {options.silence_cap_ms} ms, sentence model bar {options.sentence_threshold}")
    print(f"{'policy':34} {'group':10} {'false cut-offs':>15} {'end delay median':>17} {'p90':>7}")
    groups = [("all", lambda t: True), ("piper", lambda t: t.voice.startswith("piper")),
              ("espeak", lambda t: not t.voice.startswith("piper")), ("breath", lambda t: t.breath)]
    for policy, label in policies:
        for group, keep in groups:
            row = summarise([t for t in trials if keep(t)], policy, options)
            print(f"{label:34} {group:10} {row['false_cutoff_pct']:14.1f}% {row['delay_median_ms']:14.0f} ms"
                  f" {row['delay_p90_ms']:5.0f} ms")
    by_pause = {p: [t for t in trials if t.cut is not None and t.pause_s == p] for p in pauses}
    print("\nfalse cut-offs by pause length (shipped / VAD only): " + ", ".join(
        f"{p:.1f} s {summarise(ts, 'shipped', options)['false_cutoff_pct']:.0f}%"
        f" / {summarise(ts, 'vad', options)['false_cutoff_pct']:.0f}%" for p, ts in by_pause.items()))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one Piper rate, two espeak voices, two pauses")
    defaults = TurnOptions()
    parser.add_argument("--threshold", type=float, default=defaults.threshold)
    parser.add_argument("--words-after-ms", type=int, default=defaults.words_after_ms)
    parser.add_argument("--cap-ms", type=int, default=defaults.silence_cap_ms)
    parser.add_argument("--sentence-threshold", type=float, default=defaults.sentence_threshold)
    args = parser.parse_args()
    options = TurnOptions(threshold=args.threshold, words_after_ms=args.words_after_ms,
                          silence_cap_ms=args.cap_ms, sentence_threshold=args.sentence_threshold)
    pin_caches()
    weights = weights_dir()
    vad = SileroVad(vad_model_path(weights))
    asr = FasterWhisperRecognizer(embedded_options(weights))
    turn = SmartTurn(turn_model_path(weights))
    sentence = SentenceEnd.from_gguf(llm_model_path(weights))
    voices = [f"piper:{r}" for r in PIPER_RATES] + [f"{v}:{s}" for v, s in ESPEAK_VOICES]
    pauses = PAUSES_S
    if args.quick:
        voices, pauses = ["piper:1.0", "en-us:150", "en-gb:170"], (0.6, 1.0)
    plan = [(v, q, c, p, b) for v, (q, cuts), b in itertools.product(voices, QUESTIONS, (False, True))
            for c, p in [(None, 0.0), *itertools.product(cuts, pauses)]]
    trials: list[Trial] = []
    started = time.monotonic()
    for n, (voice, question, cut, pause_s, with_breath) in enumerate(plan, 1):
        audio, resume, end = build(voice, question, cut, pause_s, with_breath)
        trials.append(Trial(voice, question, cut, pause_s, with_breath, resume, end,
                            run_trial(audio, vad, asr, turn, sentence)))
        if n % 50 == 0:
            print(f"  {n}/{len(plan)} trials, {time.monotonic() - started:.0f} s", file=sys.stderr)

    report(trials, options, pauses)
    return 0


if __name__ == "__main__":
    sys.exit(main())
