"""Speed of the embedded voice models on this machine: ASR, LLM, TTS (and the 48 kHz resampler).

    python benchmarks/asr_tts_llm.py [--wav REAL_SPEECH.wav] [--repeats 3]

Prints a markdown table. Speech is made with Piper (a real neural voice); pass `--wav` to time ASR
on a recording too (16-bit PCM). RTF = compute seconds / audio seconds (lower is faster).
The LLM rows use a ~400-token system prompt: "cold" evaluates it from scratch, "warm" is the next
turn, which reuses it from llama.cpp's KV cache and pays only for the new question.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import sys
import time
import wave
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from models import asr, llm, tts  # noqa: E402
from models.audio import StreamResampler, int16_to_float32, resample  # noqa: E402
from models.paths import weights_dir  # noqa: E402

SYSTEM_PROMPT = " ".join(
    [
        "You are an experienced strength and conditioning coach who talks to an athlete during a live",
        "workout through a speaker. The athlete cannot read, only listen, so answer in one or two short",
        "spoken sentences with no lists, no markdown and no emoji. Use only the measured facts given with",
        "each question: repetition counts, joint angles, tempo and the form faults found by the camera.",
        "Never invent numbers. If the facts do not answer the question, say so briefly and suggest what",
        "the athlete can do next. Be encouraging but precise: name the body part and the correction.",
    ]
    * 3
)
QUESTIONS = ["How many reps did I do?", "Was my depth good on the last rep?", "What should I fix first?"]
FACTS = "Facts: exercise back squat; reps completed 7; knee angle at the bottom 88 degrees; knees caved in on rep 5."


def row(name: str, value: str, note: str = "") -> str:
    return f"| {name} | {value} | {note} |"


def bench_asr(speech: dict[str, np.ndarray], repeats: int) -> list[str]:
    recognizer = asr.FasterWhisperRecognizer(asr.embedded_options(weights_dir()))
    recognizer.transcribe(next(iter(speech.values())), final=False)  # warm-up
    rows = []
    for name, audio in speech.items():
        for final, label in ((False, "partial greedy"), (True, "final beam 5")):
            runs = [recognizer.transcribe(audio, final=final) for _ in range(repeats)]
            rtf = statistics.median(r.rtf for r in runs)
            wall = statistics.median(r.compute_s for r in runs)
            rows.append(row(f"ASR tiny.en int8 {label}, {name} ({audio.size / 16000:.1f} s)", f"RTF {rtf:.3f}", f"{wall * 1000:.0f} ms: {runs[0].text!r}"))
    return rows


def bench_llm(threads: int, threads_batch: int) -> list[str]:
    options = llm.embedded_options(weights_dir()).model_copy(
        update={"temperature": 0.0, "seed": 1, "threads": threads, "threads_batch": threads_batch}
    )
    chat = llm.LlamaCppChat(options)
    rows = []
    for label, question in (("cold", QUESTIONS[0]), ("warm prefix", QUESTIONS[1]), ("warm prefix", QUESTIONS[2])):
        if label == "cold":
            chat.llama.reset()
        cached = chat.llama.input_ids[: chat.llama.n_tokens].copy()  # tokens in the KV cache before this turn
        messages = [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": f"{FACTS}\nQuestion: {question}"}]
        started = time.perf_counter()
        first = None
        n = 0
        for _ in chat.stream(messages, max_tokens=64):
            if first is None:
                first = time.perf_counter() - started
                prompt = chat.llama.input_ids[: chat.llama.n_tokens].copy()  # the prompt (+ a token or two)
            n += 1
        total = time.perf_counter() - started
        gen_rate = (n - 1) / (total - first) if n > 1 else 0.0
        reused = _common_prefix(cached, prompt)
        rows.append(
            row(f"LLM first token, {label} ({prompt.size} prompt tokens)", f"{first * 1000:.0f} ms", f"{reused} reused from the KV cache")
        )
        if label == "cold":
            rows.append(row("LLM prompt processing", f"{prompt.size / first:.0f} tok/s", "cold, whole prompt"))
        rows.append(row(f"LLM generation ({label})", f"{gen_rate:.1f} tok/s", f"{n} tokens in {total:.2f} s"))
    return rows


def bench_reply_read(threads_batch: int, repeats: int) -> list[str]:
    """First token when the KV cache holds all of the prompt but its last `left` tokens (as after a
    prefill), read as llama-cpp-python reads it and as `LlamaCppChat.stream` reads it: padded to a
    whole number of 16-token chunks when 10-15 tokens past one (`models/llm/llama.py:_padded_start`)."""
    options = llm.embedded_options(weights_dir()).model_copy(
        update={"temperature": 0.0, "seed": 1, "threads_batch": threads_batch})
    chat = llm.LlamaCppChat(options)
    messages = [{"role": "system", "content": SYSTEM_PROMPT},
                {"role": "user", "content": f"{FACTS}\nQuestion: {QUESTIONS[1]}"}]
    prompt = chat._reply_prompt_tokens(messages)  # noqa: SLF001 - the tokens `stream` reads

    def first_token(left: int, padded: bool) -> float:
        chat.llama.reset()
        chat.llama.eval(prompt[: len(prompt) - left])
        started = time.perf_counter()
        if padded:
            with contextlib.closing(chat.stream(messages, max_tokens=2)) as deltas:
                next(deltas)
        else:
            with contextlib.closing(chat.llama.create_chat_completion(
                    messages=messages, stream=True, max_tokens=2, temperature=0.0)) as chunks:
                next(chunk for chunk in chunks if chunk["choices"][0]["delta"].get("content"))
        return time.perf_counter() - started

    rows = []
    for lefts in (range(10, 16), range(26, 32)):
        ms = {padded: [statistics.median(first_token(left, padded) for _ in range(repeats)) * 1000 for left in lefts]
              for padded in (False, True)}
        rows.append(row(f"LLM first token, {lefts[0]}-{lefts[-1]} prompt tokens left to read ({threads_batch} threads)",
                        f"{statistics.mean(ms[True]):.0f} ms padded to {16 * (lefts[0] // 16 + 1)}",
                        f"{statistics.mean(ms[False]):.0f} ms as they are; per count: "
                        + ", ".join(f"{a:.0f}/{b:.0f}" for a, b in zip(ms[False], ms[True]))))
    return rows


def _common_prefix(a: np.ndarray, b: np.ndarray) -> int:
    n = min(a.size, b.size)
    differ = np.flatnonzero(a[:n] != b[:n])
    return int(differ[0]) if differ.size else n


def bench_tts(repeats: int) -> list[str]:
    synth = tts.PiperSynthesizer(tts.embedded_options(weights_dir()))
    text = "Nice depth on that one. Keep your knees pushed out as you stand up. Three more reps, you've got this."
    list(synth.synthesize("Warm up."))
    firsts, rtfs, resample_ms = [], [], []
    for _ in range(repeats):
        started = time.perf_counter()
        first, audio_s = None, 0.0
        resampler = StreamResampler(synth.sample_rate, 48_000)
        for chunk in synth.synthesize(text):
            first = first if first is not None else time.perf_counter() - started
            audio_s += chunk.duration
            t = time.perf_counter()
            resampler.push(chunk.samples)
            resample_ms.append((time.perf_counter() - t) * 1000 / chunk.duration)
        total = time.perf_counter() - started
        firsts.append(first)
        rtfs.append(total / audio_s)
    return [
        row("TTS Piper joe-medium first chunk", f"{statistics.median(firsts) * 1000:.0f} ms", "first sentence of 3"),
        row("TTS Piper joe-medium RTF", f"{statistics.median(rtfs):.3f}", "1 onnxruntime thread"),
        row("Resample 22.05 -> 48 kHz (PyAV)", f"{statistics.median(resample_ms):.2f} ms per audio s", "per chunk"),
    ]


def read_wav(path: Path) -> np.ndarray:
    with wave.open(str(path)) as w:
        pcm = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16).reshape(-1, w.getnchannels())[:, 0]
        return resample(int16_to_float32(pcm), w.getframerate(), 16_000)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wav", type=Path, help="a real speech recording to time ASR on")
    parser.add_argument("--repeats", type=int, default=3)
    default = llm.LlmOptions()
    parser.add_argument("--threads", type=int, default=default.threads, help="LLM generation threads")
    parser.add_argument("--threads-batch", type=int, default=default.threads_batch, help="LLM prompt threads")
    args = parser.parse_args()

    weights = weights_dir()
    for family in (asr, llm, tts):
        family.prepare_embedded(weights)
    synth = tts.PiperSynthesizer(tts.embedded_options(weights))
    speech = {
        "Piper": resample(
            int16_to_float32(np.concatenate([c.samples for c in synth.synthesize("How is my squat depth?")])),
            synth.sample_rate,
            16_000,
        )
    }
    if args.wav:
        speech[args.wav.name] = read_wav(args.wav)

    rows = ["| measure | value | note |", "|---|---|---|"]
    rows += bench_asr(speech, args.repeats)
    rows += bench_tts(args.repeats)
    rows += bench_llm(args.threads, args.threads_batch)
    rows += bench_reply_read(default.threads_batch_spare, args.repeats)
    print(f"LLM threads {args.threads}, prompt threads {args.threads_batch}; load average {os.getloadavg()[0]:.1f}")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
