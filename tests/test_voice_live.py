"""The voice loop with the real embedded models over real aiortc sessions and websockets.

Speech comes from Piper (a different voice than a person's, but real speech Whisper has to hear);
video is a generated pattern so the vision loop runs alongside, as in a real session.
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
from typing import Any

import numpy as np
import pytest
import websockets

from models.asr import AsrOptions, FasterWhisperRecognizer
from models.asr.prepare import multilingual_model_dir, prepare_multilingual
from models.audio import resample
from models.paths import weights_dir
from models.health import FamilyStatus, ModelState
from realtime.voice import conversation as conversation_module
from tests.coaching_sequences import generate
from tests.rtc_client import ArrayAudioTrack, ArrayVideoTrack, RtcTestClient, SpeakerphoneTrack
from tests.speech import espeak_speech, piper_speech, piper_speech_paused, white_noise
from tests.test_webrtc_client import moving_square

pytestmark = pytest.mark.slow


def speech48k(text: str) -> np.ndarray:
    """Piper speech as 48 kHz int16, the way a browser microphone would deliver it."""
    return (np.clip(resample(piper_speech(text), 16_000, 48_000), -1, 1) * 32767).astype(np.int16)


def interruption(level: float = 1.0) -> np.ndarray:
    """"Wait, stop, I have a question." at `level`, with 0.5 s of silence after it. Synthesise it
    before the session starts: client and server share the test's event loop, and the first Piper
    synthesis in a process held it for 2 s, stalling the coach's voice mid-reply."""
    said = np.concatenate([speech48k("Wait, stop, I have a question."), np.zeros(24000, np.int16)])
    return (said * level).astype(np.int16)


def spoken_question(text: str) -> np.ndarray:
    """A question as a microphone hears it: 0.2 s before it, and 1 s of silence after, ending the turn."""
    return np.concatenate([np.zeros(9600, np.int16), speech48k(text), np.zeros(48_000, np.int16)])


async def voice_client(server) -> tuple[RtcTestClient, ArrayAudioTrack]:  # noqa: ANN001
    mic = ArrayAudioTrack(np.zeros(0, np.int16))
    client = RtcTestClient(server.url, video=ArrayVideoTrack(lambda i: moving_square(i, 320, 240)), audio=mic)
    await client.connect()
    await client.wait_for(lambda m: m["type"] == "hello")
    return client, mic


def conversation_log(client: RtcTestClient) -> list[tuple[Any, ...]]:
    """What the client heard of the conversation, for a failure's message: each final transcript,
    each reply's end (interrupted or not), each error, in order."""
    return [(m["type"], m.get("turn"),
             m.get("text") or m.get("code") or ("interrupted" if m.get("interrupted") else ""))
            for m in client.messages if (m["type"] == "transcript" and m["final"]) or m["type"] == "error"
            or (m["type"] == "reply" and m["done"])]


def reply_text(client: RtcTestClient, turn: int) -> str:
    return "".join(m["delta"] for m in client.messages
                   if m["type"] == "reply" and m["turn"] == turn and m["kind"] == "answer")


def loud_frames_after(client: RtcTestClient, t: float) -> int:
    return sum(1 for pcm, at in zip(client.received_audio, client.received_audio_times)
               if at >= t and np.abs(pcm).max() > 500)


async def test_spoken_question_gets_transcript_answer_and_audible_reply(start_server, loaded_hub) -> None:
    server = await start_server(hub=loaded_hub)
    client, mic = await voice_client(server)
    try:
        mic.play(spoken_question("How should I breathe during a squat?"))
        final = await client.wait_for(lambda m: m["type"] == "transcript" and m["final"], timeout=30)
        assert "breathe" in final["text"].lower() and "squat" in final["text"].lower(), final
        done = await client.wait_for(lambda m: m["type"] == "reply" and m["done"] and m["kind"] == "answer",
                                     timeout=60)
        assert len(reply_text(client, done["turn"])) > 10
        assert any("breath" in c["title"].lower() for c in done["citations"]), done["citations"]
        metrics = await client.wait_for(lambda m: m["type"] == "metrics", timeout=30)
        stages = metrics["stages"]
        assert 0 < stages["final_transcript"] < stages["llm_first_token"] < stages["first_reply_frame"]
        await asyncio.sleep(1.0)
        assert loud_frames_after(client, mic.speech_done_at) > 25, "the reply must be heard (>0.5 s of speech)"
        server.ctx.store.flush()
        record = server.ctx.store.get(client.session_id)
        roles = [t["role"] for t in record["turns"]]
        assert roles == ["user", "assistant"] and record["latency"][0]["turn"] == done["turn"]
    finally:
        await client.close()


@pytest.mark.parametrize(("partial", "found", "question", "cited"), [
    # Partials that matched no note well ("Should I keep my ...", or a misheard start) leave none.
    (None, None, "How should I breathe during a squat?", "breathing-during-reps"),
    # A partial misheard as a question about the week finds the deload note.
    ("How long should I rest this week?", "recovery-and-deload", "How long should I rest between sets?",
     "rest-between-sets"),
], ids=["no-note", "misheard-note"])
async def test_the_whole_question_finds_the_note_the_partials_missed(
        start_server, loaded_hub, partial: str | None, found: str | None, question: str, cited: str) -> None:
    """Whatever note the partial transcripts left for the turn (none, or one for misheard words),
    the answer to the whole question is grounded in the note that matches it."""
    server = await start_server(hub=loaded_hub)
    client, _ = await voice_client(server)
    try:
        conversation = server.sessions[client.session_id].conversation
        left = loaded_hub.knowledge.search(partial, None, [], k=1) if partial else []
        assert [p.doc_id for p in left] == ([found] if found else [])
        conversation.read_ahead.remember_note(conversation.turn + 1, left, partial or "")  # what those partials leave
        client.send({"type": "chat", "text": question})
        done = await client.wait_for(lambda m: m["type"] == "reply" and m["done"] and m["kind"] == "answer",
                                     timeout=60)
        assert [c["id"] for c in done["citations"]] == [cited]
    finally:
        await client.close()


async def test_a_breath_mid_question_is_waited_out_and_its_speculative_answer_dropped(start_server, loaded_hub) -> None:
    """0.6 s of silence after "What was my": the VAD's silence alone (0.5 s) answered half a question;
    Smart Turn and the dangling words hold the turn open (to the cap, or 0.7 s when Whisper hears
    the fragment as a finished question), and the answer speculatively started at the pause is
    dropped unheard when they go on."""
    server = await start_server(hub=loaded_hub)
    client, mic = await voice_client(server)
    try:
        before, after = piper_speech_paused("What was my tempo on the last set?", after_words=3, pause_s=0.6)
        question = np.concatenate([np.zeros(3200, np.float32), before, after, np.zeros(16_000, np.float32)])
        mic.play((np.clip(resample(question, 16_000, 48_000), -1, 1) * 32767).astype(np.int16))
        done = await client.wait_for(lambda m: m["type"] == "reply" and m["done"] and m["kind"] == "answer",
                                     timeout=60)
        await asyncio.sleep(1.0)
        finals = [m for m in client.messages if m["type"] == "transcript" and m["final"]]
        assert len(finals) == 1, finals  # one turn: nothing answered "What was my"
        assert "tempo" in finals[0]["text"].lower() and "set" in finals[0]["text"].lower(), finals
        assert {m["turn"] for m in client.messages if m["type"] == "reply"} == {done["turn"]}
        registry = server.ctx.metrics.registry
        # The pause after "my" was not judged the end: the judges said wait, or, on a slow machine,
        # the person went on before Whisper, Smart Turn and the sentence model had all been heard.
        verdicts = {v: registry.get_sample_value("coach_pause_judgements_total", {"verdict": v}) or 0
                    for v in ("end", "wait", "wait_cap", "overtaken")}
        assert verdicts["wait_cap"] + verdicts["wait"] + verdicts["overtaken"] >= 1, verdicts
        assert registry.get_sample_value("coach_speculative_turns_total", {"outcome": "abandoned"}) >= 1
        assert registry.get_sample_value("coach_speculative_turns_total", {"outcome": "confirmed"}) == 1
        server.ctx.store.flush()
        assert [t["role"] for t in server.ctx.store.get(client.session_id)["turns"]] == ["user", "assistant"]
    finally:
        await client.close()


async def test_an_end_of_turn_model_that_throws_leaves_the_words_to_decide(start_server, loaded_hub,
                                                                          monkeypatch) -> None:
    def explode(audio: np.ndarray) -> float:
        raise RuntimeError("smart turn crashed")

    monkeypatch.setattr(loaded_hub.turn, "probability", explode)
    # A cap no judgement needs to race: on a slow CPU, Whisper and the sentence model beside the
    # speculative reply's voice took 1.8 s of a pause, and the default cap ended the turn first.
    server = await start_server(hub=loaded_hub, models={"turn": {"silence_cap_ms": 8000}})
    client, mic = await voice_client(server)
    try:
        mic.play(spoken_question("How many reps did I do?"))
        final = await client.wait_for(lambda m: m["type"] == "transcript" and m["final"], timeout=30)
        await client.wait_for(lambda m: m["type"] == "reply" and m["done"] and m["kind"] == "answer", timeout=60)
        assert "reps" in final["text"].lower(), final
        registry = server.ctx.metrics.registry
        assert registry.get_sample_value("coach_model_errors_total", {"family": "turn"}) >= 1
        # The words (closed by Whisper, a sentence to the sentence model) ended the turn, not the cap.
        verdicts = {v: registry.get_sample_value("coach_pause_judgements_total", {"verdict": v}) or 0
                    for v in ("end", "wait", "wait_cap")}
        assert verdicts["end"] + verdicts["wait"] >= 1 and verdicts["wait_cap"] == 0, verdicts
    finally:
        await client.close()


async def test_the_partial_made_at_the_pause_is_the_final_transcript(start_server, loaded_hub, monkeypatch) -> None:
    """With no partial running when they stop, the one started at the pause heard every word:
    Whisper does not run again for the end of the turn."""
    calls: list[bool] = []
    transcribe = loaded_hub.asr.transcribe

    def recorded(audio: np.ndarray, final: bool, unclosed: bool = False):  # noqa: ANN202
        calls.append(final)
        return transcribe(audio, final, unclosed)

    monkeypatch.setattr(loaded_hub.asr, "transcribe", recorded)
    server = await start_server(hub=loaded_hub, voice={"partial_interval_s": 60.0})  # no partial while they speak
    client, mic = await voice_client(server)
    try:
        mic.play(spoken_question("Why do my knees cave in?"))
        final = await client.wait_for(lambda m: m["type"] == "transcript" and m["final"], timeout=30)
        await client.wait_for(lambda m: m["type"] == "reply" and m["done"] and m["kind"] == "answer", timeout=60)
        assert "knees" in final["text"].lower(), final
        partials = [m["text"] for m in client.messages if m["type"] == "transcript" and not m["final"]]
        assert partials[-1] == final["text"] and True not in calls, (partials, calls)
        registry = server.ctx.metrics.registry
        assert registry.get_sample_value("coach_final_transcripts_total", {"source": "pause_partial"}) == 1
        assert registry.get_sample_value("coach_final_transcripts_total", {"source": "whole_turn"}) is None
    finally:
        await client.close()


ITALIAN_WORDS = {"hai", "ho", "di", "il", "la", "le", "che", "per", "con", "una", "un", "ripetizioni", "serie",
                 "fatto", "sei", "non", "sono", "questa", "in", "è"}


async def test_a_question_in_italian_is_answered_in_italian_where_the_voice_allows(start_server, loaded_hub,
                                                                                    monkeypatch) -> None:
    """The multilingual path end to end: the real multilingual Whisper base (as the full profile's
    large-v3, language detected), the real LLM, the embedded English-only Piper voice."""
    prepare_multilingual(weights_dir())
    monkeypatch.setattr(loaded_hub, "asr", FasterWhisperRecognizer(
        AsrOptions(model=str(multilingual_model_dir(weights_dir())), language=None)))
    question = (np.clip(resample(espeak_speech("Quante ripetizioni ho fatto in questa serie?", voice="it"),
                                 16_000, 48_000), -1, 1) * 32767).astype(np.int16)
    said = np.concatenate([np.zeros(9600, np.int16), question, np.zeros(48_000, np.int16)])
    server = await start_server(hub=loaded_hub)
    client, mic = await voice_client(server)
    try:
        # Spoken: the voice speaks English only, so the answer is in English, and the person is told why.
        mic.play(said)
        final = await client.wait_for(lambda m: m["type"] == "transcript" and m["final"], timeout=30)
        assert "questa serie" in final["text"].lower(), final
        note = await client.wait_for(lambda m: m["type"] == "status" and m["state"] == "language", timeout=30)
        assert "Italian" in note["message"] and "English" in note["message"]
        done = await client.wait_for(lambda m: m["type"] == "reply" and m["done"] and m["kind"] == "answer",
                                     timeout=60)
        english = reply_text(client, done["turn"])
        assert len(ITALIAN_WORDS & set(re.findall(r"\w+", english.lower()))) <= 1, english
        # Text only: the answer is read, not heard, so it comes in Italian. Asked once the coach has
        # stopped speaking (a question over its voice would be a barge-in).
        seen = len(client.messages)
        for _ in range(600):
            if any(m["type"] == "voice_state" and m["reply"] == "idle" for m in client.messages[seen:]):
                break
            await asyncio.sleep(0.1)
        client.send({"type": "settings", "voice": False})
        await asyncio.sleep(0.5)
        mic.play(said)
        later = await client.wait_for(lambda m: m["type"] == "reply" and m["done"] and m["kind"] == "answer"
                                      and m["turn"] > done["turn"], timeout=60)
        italian = reply_text(client, later["turn"])
        assert len(ITALIAN_WORDS & set(re.findall(r"\w+", italian.lower()))) >= 2, italian
    finally:
        await client.close()


async def test_silence_and_noise_are_not_turns(start_server, loaded_hub) -> None:
    server = await start_server(hub=loaded_hub)
    client, mic = await voice_client(server)
    try:
        noise = white_noise(2.0, level=0.05, rate=48_000)
        mic.play(np.concatenate([np.zeros(48_000, np.int16), (noise * 32767).astype(np.int16),
                                 np.zeros(48_000, np.int16)]))
        await asyncio.sleep(5.0)
        assert not [m for m in client.messages if m["type"] in ("transcript", "reply")]
    finally:
        await client.close()


def seven_squats(session) -> None:  # noqa: ANN001
    """Feed the analysis directly: no video of seven real squats exists here."""
    session.vision.choose_exercise("squat")
    sequence = generate("squat", reps=7, view="side", seed=3)
    with session.vision._lock:  # noqa: SLF001
        coach = session.vision.analyzer.coach
        coach.choose("squat", 0.0)
        for keypoints, t in sequence:
            coach.update(keypoints, sequence.width, sequence.height, float(t))


async def test_a_spoken_question_about_the_count_is_answered_from_the_facts(start_server, loaded_hub) -> None:
    """No LLM prompt to read: the answer's words are the measured count, and the turn's stages
    show no LLM token."""
    server = await start_server(hub=loaded_hub)
    client, mic = await voice_client(server)
    try:
        session = server.sessions[client.session_id]
        await asyncio.sleep(0.5)
        seven_squats(session)
        mic.play(spoken_question("How many reps did I do?"))
        done = await client.wait_for(lambda m: m["type"] == "reply" and m["done"] and m["kind"] == "answer",
                                     timeout=60)
        assert re.search(r"\b(7|seven)\b", reply_text(client, done["turn"]).lower())
        metrics = await client.wait_for(lambda m: m["type"] == "metrics", timeout=30)
        assert "answer_text" in metrics["stages"] and "llm_first_token" not in metrics["stages"], metrics
        assert metrics["stages"]["first_reply_frame"] > metrics["stages"]["final_transcript"]
        registry = server.ctx.metrics.registry
        assert registry.get_sample_value("coach_answers_total", {"source": "facts"}) == 1
        assert registry.get_sample_value("coach_answers_total", {"source": "llm"}) is None
    finally:
        await client.close()


async def test_answer_uses_the_measured_rep_count(start_server, loaded_hub) -> None:
    """A typed question the fact answers do not take (advice words) still gets the count from the LLM."""
    server = await start_server(hub=loaded_hub)
    client, _ = await voice_client(server)
    try:
        session = server.sessions[client.session_id]
        await asyncio.sleep(0.5)
        seven_squats(session)
        client.send({"type": "chat", "text": "How many squats have I done so far, and should I do more?"})
        done = await client.wait_for(lambda m: m["type"] == "reply" and m["done"], timeout=60)
        text = reply_text(client, done["turn"]).lower()
        assert re.search(r"\b(7|seven)\b", text), text
        assert server.ctx.metrics.registry.get_sample_value("coach_answers_total", {"source": "llm"}) == 1
    finally:
        await client.close()


async def test_a_question_while_the_llm_loads_gets_a_spoken_one_moment(start_server, loaded_hub,
                                                                        monkeypatch) -> None:
    server = await start_server(hub=loaded_hub)
    client, mic = await voice_client(server)
    ready = loaded_hub.health.get("llm")
    monkeypatch.setattr(loaded_hub, "llm", None)
    loaded_hub.health.set(FamilyStatus(family="llm", state=ModelState.LOADING))
    try:
        mic.play(spoken_question("How should I breathe during a squat?"))
        error = await client.wait_for(lambda m: m["type"] == "error", timeout=30)
        done = await client.wait_for(lambda m: m["type"] == "reply" and m["done"] and m["kind"] == "answer",
                                     timeout=30)
        assert error["code"] == "llm_unavailable" and "loading" in error["message"]
        assert reply_text(client, done["turn"]) == conversation_module.STILL_LOADING
        # "done" comes once the words are written, before they are spoken, and here even before the
        # microphone has played the question's trailing second of silence.
        for _ in range(50):
            if mic.speech_done_at is not None and loud_frames_after(client, mic.speech_done_at) > 25:
                break
            await asyncio.sleep(0.1)
        assert mic.speech_done_at is not None and loud_frames_after(client, mic.speech_done_at) > 25, \
            "the 'one moment' must be heard"
    finally:
        loaded_hub.health.set(ready)
        await client.close()


async def test_barge_in_flushes_the_reply_and_marks_it_interrupted(start_server, loaded_hub) -> None:
    said = interruption()  # before the session starts (see interruption)
    server = await start_server(hub=loaded_hub)
    client, mic = await voice_client(server)
    try:
        session = server.sessions[client.session_id]
        client.send({"type": "chat", "text": "Explain step by step how to do a perfect squat, with every cue."})
        await client.wait_for(lambda m: m["type"] == "metrics" or (
            m["type"] == "reply" and m["delta"]), timeout=60)
        # Once the echo canceller has found that the coach's voice does not come back (after its
        # first 2 s of speech, realtime/media/echo.py): then barge in.
        for _ in range(300):
            if session.reply_track.pending_seconds > 0.5 and session.echo.delay.no_echo:
                break
            await asyncio.sleep(0.05)
        assert session.reply_track.pending_seconds > 0.5
        mic.play(said)
        interrupted = await client.wait_for(lambda m: m["type"] == "reply" and m["interrupted"], timeout=10)
        assert session.reply_track.pending_seconds < 0.1
        assert interrupted["done"]
        server.ctx.store.flush()
        record = server.ctx.store.get(client.session_id)
        assert any(t.get("interrupted") for t in record["turns"] if t["role"] == "assistant")
    finally:
        await client.close()


async def speakerphone_client(server) -> tuple[RtcTestClient, SpeakerphoneTrack]:  # noqa: ANN001
    mic = SpeakerphoneTrack(delay_s=0.1, gain=0.5)
    client = RtcTestClient(server.url, video=ArrayVideoTrack(lambda i: moving_square(i, 320, 240)), audio=mic)
    mic.listen_to(client)
    await client.connect()
    await client.wait_for(lambda m: m["type"] == "hello")
    return client, mic


async def test_the_coachs_own_voice_on_a_speakerphone_is_not_heard_as_the_person(start_server, loaded_hub) -> None:
    """The reply comes back into the microphone 100 ms later at half its level (no echo cancellation
    on the client): the coach neither interrupts nor answers itself."""
    server = await start_server(hub=loaded_hub)
    client, mic = await speakerphone_client(server)
    try:
        session = server.sessions[client.session_id]
        mic.play(spoken_question("How should I breathe during a squat?"))
        done = await client.wait_for(lambda m: m["type"] == "reply" and m["done"] and m["kind"] == "answer",
                                     timeout=60)
        for _ in range(300):  # until the whole answer has been played (and echoed)
            if session.reply_track.pending_seconds == 0:
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(1.5)
        finals = [m["text"] for m in client.messages if m["type"] == "transcript" and m["final"]]
        assert not [m for m in client.messages if m["type"] == "reply" and m.get("interrupted")], \
            (finals, reply_text(client, done["turn"]))
        assert len(finals) == 1, finals
        assert loud_frames_after(client, 0.0) > 25, "the answer must have been played"
        assert {m["turn"] for m in client.messages if m["type"] == "reply" and m["kind"] == "answer"} == {done["turn"]}
    finally:
        await client.close()


@pytest.mark.parametrize("level", [1.0, 0.4])
async def test_a_person_interrupting_over_the_echo_still_barges_in(start_server, loaded_hub, level: float) -> None:
    """At 0.4 of the level the person speaks under the coach's echo on many syllables: the coach's
    voice pausing on their first sound (`Conversation.on_maybe_speech`) is what lets them be heard."""
    said = interruption(level)
    server = await start_server(hub=loaded_hub)
    client, mic = await speakerphone_client(server)
    try:
        session = server.sessions[client.session_id]
        client.send({"type": "chat", "text": "Explain step by step how to do a perfect squat, with every cue."})
        for _ in range(600):  # the coach audibly speaking, and its voice coming back for a second
            if session.reply_track.pending_seconds > 0.5 and loud_frames_after(client, 0.0) > 50:
                break
            await asyncio.sleep(0.05)
        assert session.reply_track.pending_seconds > 0.5
        mic.play(said)
        interrupted = await client.wait_for(lambda m: m["type"] == "reply" and m["interrupted"], timeout=10)
        assert interrupted["done"] and session.reply_track.pending_seconds < 0.1
        # The interruption is a turn of its own, timed from where it ended, although the microphone
        # was held while the echo was measured (a clock that fell behind made it look seconds slow).
        try:
            metrics = await client.wait_for(lambda m: m["type"] == "metrics" and m["turn"] > interrupted["turn"],
                                            timeout=60)
        except TimeoutError:
            pytest.fail(f"no turn after the interrupted one: {conversation_log(client)}")
        # Negative when the transcript was made at a pause before the confirmed end of the turn
        # (turn_timer.py); seconds either way would be the clock falling behind.
        assert -1500 < metrics["stages"]["final_transcript"] < 1500, metrics
    finally:
        await client.close()


async def test_a_fact_answerer_that_throws_leaves_the_question_to_the_llm(start_server, loaded_hub,
                                                                         monkeypatch) -> None:
    def explode(question: str, facts: dict) -> None:
        raise RuntimeError("embedder crashed")

    monkeypatch.setattr(loaded_hub, "answer_from_facts", explode)
    server = await start_server(hub=loaded_hub)
    async with websockets.connect(f"ws://127.0.0.1:{server.port}/ws") as ws:
        json.loads(await ws.recv())
        await ws.send(json.dumps({"type": "chat", "text": "How many reps did I do?"}))
        text = ""
        while not (data := json.loads(await asyncio.wait_for(ws.recv(), 60)))["type"] == "reply" or not data["done"]:
            text += data.get("delta", "") if data["type"] == "reply" else ""
        assert text and server.ctx.metrics.registry.get_sample_value("coach_answers_total", {"source": "llm"}) == 1


async def test_websocket_chat_streams_text_and_pcm_audio(start_server, loaded_hub) -> None:
    server = await start_server(hub=loaded_hub)
    async with websockets.connect(f"ws://127.0.0.1:{server.port}/ws") as ws:
        json.loads(await ws.recv())
        await ws.send(json.dumps({"type": "chat", "text": "What is a good rest time between sets?",
                                  "audio": True}))
        deltas, audio = [], bytearray()
        while True:
            message = await asyncio.wait_for(ws.recv(), 60)
            if isinstance(message, bytes):
                assert message[:4] == b"PCM1"
                assert int.from_bytes(message[4:8], "little") == 22050
                audio += message[8:]
                continue
            data = json.loads(message)
            if data["type"] == "reply":
                deltas.append(data["delta"])
            if data["type"] == "metrics":
                break
        assert len("".join(deltas)) > 10
        assert len(audio) / 2 / 22050 > 0.5  # more than half a second of speech


async def test_only_a_well_matching_coaching_note_is_cited(start_server, loaded_hub) -> None:
    """A weak match misleads the small model (a shoulder-press note for "keep my back straight",
    before the knowledge base had a note on it, drew "No, you should not"), so it is left out; a
    good match is used and cited."""
    server = await start_server(hub=loaded_hub)

    async def citations_for(ws, text: str) -> list[str]:  # noqa: ANN001
        await ws.send(json.dumps({"type": "chat", "text": text}))
        while True:
            data = json.loads(await asyncio.wait_for(ws.recv(), 60))
            if data["type"] == "reply" and data["done"]:
                return [c["id"] for c in data["citations"]]

    async with websockets.connect(f"ws://127.0.0.1:{server.port}/ws") as ws:
        json.loads(await ws.recv())
        assert await citations_for(ws, "How long should I rest between sets?") == ["rest-between-sets"]
        assert await citations_for(ws, "Should I keep my back straight?") == ["neutral-spine"]
        # Its best match (0.64) is about form breaking down with fatigue: not what was asked.
        assert await citations_for(ws, "Tell me how deep my last squat was.") == []


async def test_a_reply_never_queues_behind_prefills(start_server, loaded_hub) -> None:
    """Prefills pile up while someone talks (one reading, a newer one waiting for the model). A reply
    must still ask for the model at once, which makes a reading prefill stop after its chunk; queued
    behind them, it waited until one had read its whole prompt (0.2-0.3 s in a third of the turns)."""
    server = await start_server(hub=loaded_hub)
    client, _ = await voice_client(server)
    held = threading.Event()
    try:
        busy = [loaded_hub.prefill_pool.submit(held.wait, 60) for _ in range(loaded_hub.prefill_pool._max_workers)]  # noqa: SLF001
        client.send({"type": "chat", "text": "Hi coach!"})
        done = await client.wait_for(lambda m: m["type"] == "reply" and m["done"], timeout=60)
        assert reply_text(client, done["turn"]) and not any(f.done() for f in busy)
    finally:
        held.set()
        await client.close()


async def test_client_vanishing_mid_reply_leaves_nothing_running(start_server, loaded_hub) -> None:
    server = await start_server(hub=loaded_hub)
    client, _ = await voice_client(server)
    session = server.sessions[client.session_id]
    client.send({"type": "chat", "text": "Tell me everything about how to do a lunge."})
    await client.wait_for(lambda m: m["type"] == "reply" and m["delta"], timeout=60)
    await client.close()  # mid-reply
    for _ in range(100):
        if session.closed.is_set() and session.task_count == 0:
            break
        await asyncio.sleep(0.05)
    assert session.closed.is_set() and session.task_count == 0, session.task_count
    assert loaded_hub.cpu.answering == 0 and loaded_hub.cpu.listening == 0
    # the shared models are free for the next person
    client2, _ = await voice_client(server)
    try:
        client2.send({"type": "chat", "text": "Hi coach!"})
        await client2.wait_for(lambda m: m["type"] == "reply" and m["done"], timeout=60)
    finally:
        await client2.close()


async def test_audio_arriving_after_close_does_not_hold_the_shared_analysis(start_server, loaded_hub) -> None:
    server = await start_server(hub=loaded_hub)
    client, _ = await voice_client(server)
    session = server.sessions[client.session_id]
    await client.close()
    await session.closed.wait()
    # Frames still buffered in the receiver reach the VAD during teardown: a question and its silence.
    session.conversation.push_audio(np.concatenate([piper_speech("How many reps did I do?"),
                                                    np.zeros(16_000, np.float32)]))
    await asyncio.sleep(0.2)
    assert loaded_hub.cpu.answering == 0 and loaded_hub.cpu.listening == 0


async def test_fault_events_become_rate_limited_spoken_cues(start_server, loaded_hub) -> None:
    server = await start_server(hub=loaded_hub)
    client, _ = await voice_client(server)
    try:
        session = server.sessions[client.session_id]
        fault = {"type": "fault_detected", "t": 1.0, "exercise": "squat", "fault": "knees_cave",
                 "cue": "Push your knees out over your toes."}
        start = asyncio.get_running_loop().time()
        session.conversation.on_coach_event(fault)
        cue = await client.wait_for(lambda m: m["type"] == "reply" and m["kind"] == "cue", timeout=5)
        assert cue["delta"] == fault["cue"]
        await asyncio.sleep(2.0)
        assert loud_frames_after(client, start) > 10, "the cue must be spoken"
        session.conversation.on_coach_event(fault)  # the same fault again at once: not repeated
        client.send({"type": "settings", "cue_verbosity": "off"})
        await client.wait_for(lambda m: m["type"] == "status" and m["state"] == "settings")
        session.conversation.on_coach_event({**fault, "fault": "forward_lean", "cue": "Chest up."})
        await asyncio.sleep(0.5)
        assert [m["delta"] for m in client.messages if m["type"] == "reply" and m["kind"] == "cue"] == [fault["cue"]]
    finally:
        await client.close()
