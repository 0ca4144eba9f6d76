"""Voice-to-voice latency over real WebRTC sessions with the embedded models, video running.

A pure-Python aiortc client streams a real person on camera (the Sports2D demo video, 640x480 at
30 fps, so pose runs all along) and speaks questions into the microphone track (Piper and
espeak-ng voices); the server hears, answers and speaks. The client runs in a process of its own,
as a browser or phone would: it shares the server's two cores but not its event loop or GIL
(`--client-in-server` runs it on the server's event loop instead, as runs before 2026-11-25 did).
It sends video it encoded to VP8 before the run, as a phone would have encoded it on its own
device; `--client-encodes` has it encode live instead (~15% of a core taken from the server). For
every turn the table shows the server's stage stamps (ms after the end of the person's speech) and
the client's own measure: from the last sample of the question leaving the client to the first
audible reply sample arriving (both processes read the same monotonic clock).
ASR word error rate is computed on the questions and on a real human recording (moonshine-voice).

    .venv/bin/python benchmarks/voice.py [--rounds 2] [--no-video] [--client-encodes] [--client-in-server]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import multiprocessing
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import jiwer
import numpy as np
from prometheus_client import CollectorRegistry

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from models.audio import resample  # noqa: E402
from models.health import HealthRegistry  # noqa: E402
from models.paths import pin_caches  # noqa: E402
from realtime.config import load_settings  # noqa: E402
from realtime.http_api import CTX, SESSIONS  # noqa: E402
from realtime.model_hub import ModelHub  # noqa: E402
from realtime.server import create_app, start_app  # noqa: E402
from tests.media import sports2d_demo_video  # noqa: E402
from tests.rtc_client import (  # noqa: E402
    ArrayAudioTrack,
    ArrayVideoTrack,
    EncodedVideoTrack,
    RtcTestClient,
    load_video_frames,
)
from tests.speech import espeak_speech, moonshine_speech, piper_speech  # noqa: E402

QUESTIONS = [
    "How many reps did I do?",
    "How is my squat depth?",
    "How should I breathe during a squat?",
    "How long should I rest between sets?",
    "Why do my knees cave in?",
    "Should I keep my back straight?",
    "How deep was my last rep?",
    "How fast was that rep?",
]
BECKETT = "Ever tried. Ever failed. No matter. Try again. Fail again. Fail better."
STAGES = ("final_transcript", "retrieval", "llm_first_token", "first_sentence", "tts_first_audio",
          "first_reply_frame")


def to_mic(audio16k: np.ndarray) -> np.ndarray:
    return (np.clip(resample(audio16k, 16_000, 48_000), -1, 1) * 32767).astype(np.int16)


def normalise(text: str) -> str:
    return jiwer.RemovePunctuation()(text.lower()).strip()


class Person:
    """The person's end of the session: an aiortc peer with camera and microphone, and what it heard."""

    def __init__(self, client: RtcTestClient, mic: ArrayAudioTrack) -> None:
        self.client = client
        self.mic = mic
        # The last answer's audio lies between its first text (sent before its speech is synthesised)
        # and the coach's reply going idle: a spoken cue (the video's exercise) may sound before or after.
        self.answer_from: float | None = None
        self.answer_until: float | None = None

    @classmethod
    async def connect(cls, url: str, video_path: str | None, client_encodes: bool) -> Person:
        video = None
        if video_path is not None:
            frames = load_video_frames(video_path, fps=30)
            video = ArrayVideoTrack(lambda i: frames[i % len(frames)]) if client_encodes else EncodedVideoTrack(frames)
        mic = ArrayAudioTrack(np.zeros(0, np.int16))
        client = RtcTestClient(url, video=video, audio=mic)
        await client.connect()
        await client.wait_for(lambda m: m["type"] == "hello")
        return cls(client, mic)

    async def ask(self, speech: np.ndarray, timeout: float = 60.0) -> dict[str, Any]:
        """Speak one question and wait until its answer is over (the coach's reply idle again; its
        turn's metrics come with the first frame): the stages, what was heard and said."""
        client, seen = self.client, len(self.client.messages)
        self.answer_from = self.answer_until = None
        self.mic.play(speech)
        try:
            metrics = await client.wait_for(lambda m: m["type"] == "metrics" and client.messages.index(m) >= seen,
                                            timeout=timeout)
            at = next(i for i in range(seen, len(client.messages)) if client.messages[i] is metrics)
            async with asyncio.timeout(timeout):  # voice_state messages repeat: found by position
                while (idle := next((i for i in range(at + 1, len(client.messages))
                                     if client.messages[i]["type"] == "voice_state"
                                     and client.messages[i]["reply"] == "idle"), None)) is None:
                    await asyncio.sleep(0.05)
        except TimeoutError:  # counted and shown, and the run goes on: one lost turn must not hide the rest
            heard = [(m["type"], m.get("text") or m.get("delta") or m.get("code")) for m in client.messages[seen:]
                     if m["type"] not in ("pose", "event", "status")]
            return {"stages": {}, "transcript": "", "reply": f"NO ANSWER in {timeout:.0f} s; got {heard}",
                    "failed": True}
        self.answer_until = client.message_times[idle] + 0.1  # its last frames may trail the message
        self.answer_from = next((client.message_times[i] - 0.05 for i in range(seen, len(client.messages))
                                 if client.messages[i]["type"] == "reply" and client.messages[i]["kind"] == "answer"
                                 and client.messages[i]["turn"] == metrics["turn"]), None)
        finals = [m for m in client.messages[seen:] if m["type"] == "transcript" and m["final"]]
        reply = "".join(m["delta"] for m in client.messages[seen:] if m["type"] == "reply" and m["kind"] == "answer")
        return {"stages": metrics["stages"], "transcript": finals[-1]["text"] if finals else "", "reply": reply}

    async def audible_since(self, since: float | None) -> tuple[float | None, list[float]]:
        """When the last question ended, and the arrival times of audible reply frames after `since`
        (None: the last answer's frames)."""
        done = self.mic.speech_done_at
        start, until = since, float("inf")
        if since is None and done is not None:
            start, until = max(done, self.answer_from or done), self.answer_until or until
        heard = [] if start is None else [
            at for pcm, at in zip(self.client.received_audio, self.client.received_audio_times)
            if start < at <= until and np.abs(pcm).max() > 500]
        return done, heard

    async def close(self, _: object = None) -> None:
        await self.client.close()


class PersonInProcess:
    """Calls a `Person` on this event loop (`--client-in-server`)."""

    def __init__(self, person: Person) -> None:
        self.person = person

    async def call(self, method: str, arg: object = None) -> Any:
        return await getattr(self.person, method)(arg)


class PersonProcess:
    """Calls a `Person` that lives in a process of its own, through a pipe."""

    def __init__(self, url: str, video_path: str | None, client_encodes: bool) -> None:
        spawn = multiprocessing.get_context("spawn")  # not fork: this process runs model threads
        self.conn, child = spawn.Pipe()
        self.process = spawn.Process(target=person_process, args=(child, url, video_path, client_encodes), daemon=True)
        self.process.start()
        self._waiter = ThreadPoolExecutor(1, thread_name_prefix="client-pipe")  # not the server's executor

    async def call(self, method: str, arg: object = None) -> Any:
        self.conn.send((method, arg))
        return await self.reply()

    async def reply(self) -> Any:
        """The next value the client process sends (its session id, once connected; then results)."""
        def receive() -> tuple[str, Any]:
            while not self.conn.poll(0.5):
                if not self.process.is_alive():
                    raise RuntimeError(f"the client process ended (exit code {self.process.exitcode})")
            return self.conn.recv()

        kind, value = await asyncio.get_running_loop().run_in_executor(self._waiter, receive)
        if kind == "error":
            raise RuntimeError(f"in the client process: {value}")
        return value


def person_process(conn: Connection, url: str, video_path: str | None, client_encodes: bool) -> None:
    """The client process: connects, then runs each (method, argument) the pipe brings until `close`."""

    async def serve() -> None:
        person = await Person.connect(url, video_path, client_encodes)
        conn.send(("ok", person.client.session_id))
        loop = asyncio.get_running_loop()
        while True:
            method, arg = await loop.run_in_executor(None, conn.recv)
            try:
                conn.send(("ok", await getattr(person, method)(arg)))
            except Exception as exc:  # noqa: BLE001 - reported to the benchmark, which stops
                conn.send(("error", repr(exc)))
            if method == "close":
                return

    asyncio.run(serve())


async def ask(person: PersonInProcess | PersonProcess, session, speech: np.ndarray) -> dict:  # noqa: ANN001
    """Speak one question; wait for its answer to be played out. Returns what was measured."""
    result = await person.call("ask", speech)
    if result.get("failed"):
        return {**result, "client_v2v": float("nan"), "pause": float("nan")}
    while session.reply_track.pending_seconds > 0:
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.3)
    done, heard = await person.call("audible_since", None)
    client_v2v = (heard[0] - done) * 1000 if heard else float("nan")
    # Longest silence between two audible frames of the reply: a first clause spoken early must not
    # leave a hole before the rest (Piper's own pause at a full stop is ~0.2-0.3 s).
    pause = max((b - a for a, b in itertools.pairwise(heard)), default=float("nan")) * 1000
    return {**result, "client_v2v": client_v2v, "pause": pause}


async def cue_latencies(person: PersonInProcess | PersonProcess, session,  # noqa: ANN001
                        registry: CollectorRegistry) -> dict[str, list[float]]:
    """Fault events as the analysis emits them, each a different fault (so none is rate-limited as a
    repeat), spaced past the cue gap; time from the event to the cue's first audible sample. Three
    cue texts, each fired three times: the first time one is heard it is synthesised, after that it
    comes from the voice's phrase cache (`models/tts/phrase_cache.py`), as a cue does whenever its
    fault returns.

    Each is fired only 4.5 s after the last cue spoken (the cue policy's gap) and after half a second
    with nothing under way and nothing heard: the session's own video makes the coach speak too, a
    cue never talks over a reply (it is dropped), and that reply's sound would be timed as the cue's.
    A cue that was dropped all the same counts as NaN (a cue spoken is one more `cue_to_audio`
    observation; a cached one is over before it can be watched)."""

    def cues_spoken() -> float:
        return registry.get_sample_value("coach_stage_latency_seconds_count", {"stage": "cue_to_audio"}) or 0.0

    faults = ["shallow_depth", "knees_cave", "forward_lean", "heels_rise", "partial_rep", "butt_wink", "hips_sag",
              "elbow_flare", "torso_lean"]
    cues = ["Push your knees out over your toes.", "Keep your chest proud as you rise.",
            "Sit back until your thighs are level."]
    times: dict[str, list[float]] = {"first": [], "again": []}
    said: set[str] = set()  # cue texts heard in full before: the phrase cache holds them
    for i, fault in enumerate(faults):
        cue = cues[i % len(cues)]
        last_count, last_cue = cues_spoken(), time.monotonic()
        for _ in range(120):  # the cue policy's 4 s gap since the last cue, then half a second of quiet
            quiet_from = time.monotonic()
            await asyncio.sleep(0.5)
            _, heard = await person.call("audible_since", quiet_from)
            if cues_spoken() != last_count:
                last_count, last_cue = cues_spoken(), time.monotonic()
            elif session.conversation.active is None and not heard and time.monotonic() - last_cue >= 4.5:
                break
        before, start = cues_spoken(), time.monotonic()
        session.conversation.on_coach_event({"type": "fault_detected", "t": 0.0, "exercise": "squat",
                                             "fault": fault, "cue": cue})
        await asyncio.sleep(2.0)
        _, heard = await person.call("audible_since", start)
        ours = cues_spoken() == before + 1
        times["again" if cue in said else "first"].append((heard[0] - start) * 1000 if heard and ours
                                                          else float("nan"))
        if heard and ours:
            said.add(cue)
    return times


def pct(values: list[float], q: float) -> float:
    values = sorted(v for v in values if v == v)
    if not values:
        return float("nan")
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


async def run(args: argparse.Namespace) -> None:
    pin_caches()
    data = Path(tempfile.mkdtemp())
    settings = load_settings(None, data_dir=data)
    hub = ModelHub(settings, HealthRegistry())
    hub.start_loading()
    hub.wait_loaded()
    app = create_app(settings, hub=hub)
    runner, port = await start_app(app)
    url = f"http://127.0.0.1:{port}"

    video_path = None if args.no_video else str(sports2d_demo_video())
    if args.client_in_server:
        person: PersonInProcess | PersonProcess = PersonInProcess(
            await Person.connect(url, video_path, args.client_encodes))
        session_id = person.person.client.session_id
    else:
        person = PersonProcess(url, video_path, args.client_encodes)
        session_id = await person.reply()
    session = app[SESSIONS].sessions[session_id]
    await asyncio.sleep(2.0)

    rows: list[dict] = []
    print(f"per turn, ms after the end of speech: {' '.join(STAGES)}")
    voices = {"piper": piper_speech, "espeak": espeak_speech}
    for _ in range(args.rounds):
        for question in QUESTIONS:
            for voice, make in voices.items():
                speech = to_mic(make(question))
                result = await ask(person, session, speech)
                result.update(voice=voice, question=question)
                rows.append(result)
                stamps = " ".join(f"{result['stages'].get(stage, float('nan')):.0f}" for stage in STAGES)
                print(f"  [{voice}] {question!r} -> heard {result['transcript']!r}; stages {stamps} ms; "
                      f"heard after {result['client_v2v']:.0f} ms, longest pause {result['pause']:.0f} ms; "
                      f"reply {result['reply'][:70]!r}", flush=True)
                await asyncio.sleep(1.0)
    registry = app[CTX].metrics.registry
    cue_ms = await cue_latencies(person, session, registry)
    frames_in = registry.get_sample_value("coach_video_frames_received_total")
    frames_done = registry.get_sample_value("coach_video_frames_processed_total")
    speculations = {outcome: registry.get_sample_value("coach_speculative_turns_total", {"outcome": outcome}) or 0
                    for outcome in ("confirmed", "abandoned")}
    finals = {source: registry.get_sample_value("coach_final_transcripts_total", {"source": source}) or 0
              for source in ("pause_partial", "whole_turn")}
    judged = (registry.get_sample_value("coach_stage_latency_seconds_sum", {"stage": "pause_judgement"}) or 0,
              registry.get_sample_value("coach_stage_latency_seconds_count", {"stage": "pause_judgement"}) or 0)
    verdicts = {verdict: registry.get_sample_value("coach_pause_judgements_total", {"verdict": verdict}) or 0
                for verdict in ("end", "wait", "wait_cap", "overtaken")}
    await person.call("close")
    await runner.cleanup()
    hub.close()

    failed = sum(1 for r in rows if r.get("failed"))
    print(f"\nvoice-to-voice over {len(rows) - failed} turns, {'video running' if video_path else 'no video'}, "
          f"client {'on the server event loop' if args.client_in_server else 'in its own process'} "
          f"(ms after the end of the person's speech){f'; {failed} turns got no answer' if failed else ''}\n")
    print("| stage | median | p95 |\n|---|---|---|")
    for stage in STAGES:
        values = [r["stages"].get(stage, float("nan")) for r in rows]
        print(f"| {stage} | {pct(values, 0.5):.0f} | {pct(values, 0.95):.0f} |")
    client_values = [r["client_v2v"] for r in rows]
    print(f"| client-measured voice-to-voice | {pct(client_values, 0.5):.0f} | {pct(client_values, 0.95):.0f} |")
    for label, from_facts in (("answers from the facts", True), ("LLM answers", False)):
        values = [r["client_v2v"] for r in rows if ("answer_text" in r["stages"]) is from_facts]
        print(f"| client-measured voice-to-voice, {label} ({len(values)} turns) | {pct(values, 0.5):.0f} | "
              f"{pct(values, 0.95):.0f} |")
    pauses = [r["pause"] for r in rows]
    print(f"| longest pause inside a reply (client) | {pct(pauses, 0.5):.0f} | {pct(pauses, 0.95):.0f} |")

    for when, label in (("first", "said the first time"), ("again", "said before (phrase cache)")):
        heard = [round(v) for v in cue_ms[when] if v == v]
        print(f"| proactive cue, {label}: fault event to first audible sample (client; heard {heard} ms, "
              f"{len(cue_ms[when]) - len(heard)} dropped) | {pct(cue_ms[when], 0.5):.0f} | "
              f"{pct(cue_ms[when], 0.95):.0f} |")

    print("\nASR word error rate (final transcripts, Whisper tiny.en beam 5)\n")
    print("| speech | clips | WER |\n|---|---|---|")
    for voice in voices:
        refs = [normalise(r["question"]) for r in rows if r["voice"] == voice]
        hyps = [normalise(r["transcript"]) for r in rows if r["voice"] == voice]
        print(f"| {voice} questions (live, over WebRTC) | {len(refs)} | {jiwer.wer(refs, hyps):.3f} |")
    human = moonshine_speech("beckett.wav")
    if human is not None and hub.asr is not None:
        text = hub.asr.transcribe(human, final=True).text
        print(f"| human recording (moonshine beckett.wav) | 1 | {jiwer.wer(normalise(BECKETT), normalise(text)):.3f} |")
    print(f"\nvideo during the run ({'encoded live by the client' if args.client_encodes else 'encoded before the run'}): "
          f"{frames_in:.0f} frames received, {frames_done:.0f} analysed")
    print(f"answers started at the first silence: {speculations['confirmed']:.0f} confirmed, "
          f"{speculations['abandoned']:.0f} dropped unheard when the speech went on")
    print(f"final transcripts: {finals['pause_partial']:.0f} from the partial made at the pause, "
          f"{finals['whole_turn']:.0f} transcribed again at the end of the turn")
    print("pauses judged (the end-of-turn models and the words): " + ", ".join(
        f"{count:.0f} {verdict}" for verdict, count in verdicts.items())
        + " (overtaken: the silence cap or more speech came before the judgement); "
        f"{judged[0] / max(judged[1], 1) * 1000:.0f} ms a judgement on average, from the pause")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=1, help="times to ask each question in each voice")
    parser.add_argument("--no-video", action="store_true", help="voice only (no pose load)")
    parser.add_argument("--client-encodes", action="store_true",
                        help="the client encodes its video live, on the server's cores")
    parser.add_argument("--client-in-server", action="store_true",
                        help="run the client on the server's event loop, not in a process of its own")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
