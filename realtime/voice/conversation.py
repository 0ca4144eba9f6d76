"""The conversation of one session: listen, understand, answer, speak, and stop when interrupted.

Microphone audio (16 kHz) goes through the VAD on the event loop (a 32 ms window costs ~0.1 ms).
While the person speaks, partial transcripts are made at an interval, and the LLM reads the
turn's prompt so far (facts, the coaching note retrieved for the words so far, the words) into its
KV cache. When they pause, a partial transcript of every word starts at once; at 150 ms of silence
the reply starts speculatively from it (it is the final transcript: Whisper does not run again),
held back by a `Gate` until the end of the turn is confirmed (or dropped unheard if the person goes
on). Smart Turn and the pause transcript's words judge that pause (`turn_end.py`): finished, the turn
ends there; mid-sentence, it ends only at a longer silence cap, so a person catching their breath
is not answered on half a question. Without Smart Turn, the VAD's silence ends the turn.
A question about what was measured is answered from the facts (`fact_answers.py`); any other
answer streams from the LLM, grounded in the measured facts and the retrieved coaching note; its
text deltas go to the client as they come and its sentences go to TTS as soon as each is complete.
When the person starts speaking over the coach (barge-in), the reply track is flushed and the LLM
and TTS work is stopped at once.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import threading
import time
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from models.health import ModelState
from models.tts import SentenceChunker
from models.turn import TurnOptions
from models.vad import Segmenter, SpeechStarted, UtteranceEnded, VadOptions
from realtime.media.reply_track import ReplyAudioTrack
from realtime.protocol import Citation, ErrorMessage, Reply, Transcript, TurnMetrics
from realtime.session_ports import ConversationHost
from realtime.voice.cues import CuePolicy
from realtime.voice.fact_answers import FactAnswer
from realtime.voice.gate import Gate
from realtime.voice.note_tags import NoteTagFilter
from realtime.voice.responder import (
    SUMMARY_REQUEST,
    HistoryTurn,
    build_messages,
    find_note,
)
from realtime.voice.sinks import TrackAudioSink, WebSocketAudioSink
from realtime.voice.speaker import AudioSink, Speaker
from realtime.voice.turn_end import pause_end_ms
from realtime.voice.turn_timer import TurnTimer

log = logging.getLogger(__name__)

ReplyKind = Literal["answer", "cue", "summary"]
STILL_LOADING = "One moment: I'm still getting ready. Ask me again in a few seconds."


@dataclass
class _ActiveReply:
    """A reply in flight: its task, the event that stops its worker threads, and what was said."""

    turn: int
    kind: ReplyKind
    gate: Gate = field(default_factory=Gate)
    stop: threading.Event = field(default_factory=threading.Event)
    task: asyncio.Task[None] | None = None
    speaker: Speaker | None = None
    text: str = ""

    def send(self, session: ConversationHost, message: Any) -> None:
        """To the client once the turn is confirmed (a speculative reply's messages wait)."""
        self.gate.run(lambda: session.send(message))


@dataclass
class _PartialRun:
    """A partial transcription, in flight or done."""

    turn: int
    voiced_end: float  # stream time of the last voiced window in the audio it heard
    paused: bool  # that audio ends in a pause (pause_partial_after_s) after the words
    heard: asyncio.Future[Any]


@dataclass
class _Speculation:
    """A turn being answered from its first silence, before the VAD has confirmed its end."""

    turn: int
    timer: TurnTimer
    gate: Gate
    voiced_end: float  # stream time of the last voiced window it heard: a later one means they went on
    task: asyncio.Task[None] | None = None


class Conversation:
    """Voice and text turns of one session, and the coach's own cues."""

    def __init__(self, session: ConversationHost) -> None:
        self.session = session
        self.hub = session.ctx.hub
        self.options = session.ctx.settings.voice
        self.turn = 0
        self.history: list[HistoryTurn] = []
        self.cues = CuePolicy()
        self.active: _ActiveReply | None = None
        self._segmenter: Any = None
        self._vad_options: Any = None
        self._turn_options: TurnOptions | None = None  # set when Smart Turn judges pauses
        self._stream_time = 0.0
        self._stream_clock: tuple[float, float] | None = None  # (wall, stream seconds) at last push
        self._partial_busy = False
        self._last_partial = 0.0
        self._latest_partial: _PartialRun | None = None
        self._user_turn_started = False
        self._speculation: _Speculation | None = None
        self._prefilled: tuple[int, list[Any]] | None = None  # (turn, passages) read into the LLM
        self._prefilled_words = ""  # the partial transcript read with them
        self.cpu = self.hub.cpu.claim()  # listening / answering: the cores' priority (cpu_share.py)
        self._final_transcript_due = False  # from the first silence until Whisper has made it

    # ------------------------------------------------------------------ CPU priority

    @property
    def answering(self) -> bool:
        """From the end of the person's speech to the first reply sound (this session's analysis
        pauses meanwhile, the others' slow down: realtime/cpu_share.py)."""
        return self.cpu.answering

    def _core_spare(self) -> bool:
        """The LLM may read with both cores: analysis is held back for the voice loop, and Whisper
        is not running or about to (asked again before each chunk of a prefill)."""
        return self.hub.cpu.core_spare(self.hub.transcribing) and not self._final_transcript_due

    # ------------------------------------------------------------------ listening

    def push_audio(self, pcm16k: np.ndarray) -> None:
        """Microphone audio from the session's audio track (on the event loop)."""
        if self.hub.vad is None or self.hub.asr is None:
            return
        if self._segmenter is None:
            models = self.session.ctx.settings.models
            self._vad_options = VadOptions.model_validate(models.vad)
            if self.hub.turn is not None:
                self._turn_options = TurnOptions.model_validate(models.turn)
            cap = self._turn_options.silence_cap_ms if self._turn_options is not None else None
            self._segmenter = Segmenter(self.hub.vad, self._vad_options, turn_end_ms=cap)
        self._stream_time += len(pcm16k) / 16_000
        self._stream_clock = (time.monotonic(), self._stream_time)
        echo = self.session.echo
        if echo is not None and echo.unsure() and not self._user_turn_started:
            # The coach's own voice, not cancelled yet: heard as silence, so nobody's turn starts and
            # the segmenter's clock (the turn timings' origin) keeps up with the microphone.
            pcm16k = np.zeros_like(pcm16k)
        for event in self._segmenter.push(pcm16k):
            if isinstance(event, SpeechStarted):
                self._on_speech_started()
            else:
                self._on_utterance(event)
        segmenter = self._segmenter
        if not segmenter.in_speech:
            return
        if self._speculation is not None and segmenter.last_voiced_end > self._speculation.voiced_end:
            self._abandon_speculation()  # they went on: its transcript is of the shorter audio
        if segmenter.silence_s >= self.options.speculate_after_silence_s:
            if self._speculation is None:
                self._speculate()
        elif not self._partial_busy and self._partial_due(segmenter):
            self._start_partial()

    @property
    def person_speaking(self) -> bool:
        return self._segmenter is not None and self._segmenter.in_speech

    def _wall_time(self, stream_t: float) -> float:
        """Monotonic wall time of a point in the microphone stream."""
        assert self._stream_clock is not None
        wall, stream = self._stream_clock
        return wall - (stream - stream_t)

    def _on_speech_started(self) -> None:
        if not self._user_turn_started:
            self.turn += 1
            self._user_turn_started = True
            self._prefilled = None
        self._last_partial = time.monotonic()
        self.cpu.set_listening(True)
        self.cpu.set_answering(False)
        if self.active is not None:
            self.interrupt("barge-in")
        self.session.spawn(self._prefill(self.turn, None), "llm-prefill")

    def _partial_due(self, segmenter: Segmenter) -> bool:
        """While they speak, a partial at an interval; once they pause, one that hears every word."""
        if segmenter.silence_s >= self.options.pause_partial_after_s:
            return self._covering_partial(segmenter) is None
        return (segmenter.last_probability >= self._vad_options.silence_threshold
                and time.monotonic() - self._last_partial >= self.options.partial_interval_s)

    def _covering_partial(self, segmenter: Segmenter) -> _PartialRun | None:
        """This turn's latest partial transcription, if it heard a pause after the last voiced window."""
        run = self._latest_partial
        if run is not None and run.turn == self.turn and run.paused and run.voiced_end == segmenter.last_voiced_end:
            return run
        return None

    def _start_partial(self) -> None:
        audio = self._segmenter.current_audio()
        if audio is None or len(audio) < 8000:
            return
        self._partial_busy = True
        # Its own task, so that a speculative turn can wait for it too (shielded: dropping the
        # turn must not cancel the partial).
        heard = asyncio.ensure_future(self.hub.transcribe(audio, False))
        segmenter = self._segmenter
        self._latest_partial = _PartialRun(self.turn, segmenter.last_voiced_end,
                                           segmenter.silence_s >= self.options.pause_partial_after_s, heard)
        self.session.spawn(self._partial(heard, self.turn), "asr-partial")

    async def _partial(self, heard: asyncio.Future[Any], turn: int) -> None:
        try:
            result = await heard
        finally:
            # The interval counts from the end of the last partial: the recogniser stays free about
            # half the time, so the final transcript rarely shares the cores with a partial one.
            self._partial_busy = False
            self._last_partial = time.monotonic()
        if result.text and turn == self.turn and self._user_turn_started:
            self.session.send(Transcript(turn=turn, text=result.text, final=False))
            if self._speculation is None:  # else the reply is already reading the whole question
                await self._prefill(turn, result.text)

    async def _prefill(self, turn: int, words: str | None) -> None:
        """Read the turn's prompt so far into the LLM's KV cache while the person is still talking.

        Prompt reading is the slow part on a CPU (~45 tokens/s on one core here), so it is done in
        stages while they talk: the measured facts (`words=None`: at speech start, and after each
        reply for the next turn), then at each partial transcript the passage retrieved for the
        words so far and the words themselves. At the end of the turn only the last words are left
        to read. A newer prefill, or a reply, makes an older one stop where it is.
        """
        if getattr(self.hub.llm, "prefill", None) is None:
            return
        facts, exercise, faults = self.session.measured_facts()
        passages = None
        if words is not None:
            if len(words.split()) < self.options.min_words_to_retrieve:
                return
            read = self._prefilled[1] if self._prefilled is not None and self._prefilled[0] == turn else None
            passages = await self._find_note(words, exercise, faults, keep=read)
            if turn != self.turn or not self._user_turn_started or self._speculation is not None:
                return  # the turn moved on, or its reply is already reading the whole question
            self._prefilled, self._prefilled_words = (turn, passages), words
        await self._read_ahead(build_messages(words or "", facts, passages, self.history))

    async def _read_ahead(self, messages: list[dict[str, str]]) -> None:
        """`messages` into the LLM's KV cache, on two threads while a core is spare; a newer prefill
        stops it after its chunk, a reply asking for the model at once."""
        await asyncio.get_running_loop().run_in_executor(
            self.hub.prefill_pool, functools.partial(self.hub.llm.prefill, messages, spare_core=self._core_spare))

    def refresh_context(self) -> None:
        """New facts (a rep, a set): re-read them into the KV cache while nobody needs the LLM."""
        if self.active is None and not self.cpu.listening and not self.cpu.answering:
            self.session.spawn(self._prefill(self.turn, None), "llm-refresh")

    def _speculate(self) -> None:
        """Silence has begun: transcribe and answer now, heard only if the VAD confirms the end."""
        audio = self._segmenter.current_audio()
        if audio is None:
            return
        timer = TurnTimer(self.turn, speech_end=self._wall_time(self._segmenter.last_voiced_end))
        spec = _Speculation(turn=self.turn, timer=timer, gate=Gate(confirmed=False),
                            voiced_end=self._segmenter.last_voiced_end)
        self._speculation = spec
        self.cpu.set_answering(True)
        self._final_transcript_due = True
        covering = self._covering_partial(self._segmenter)
        if covering is None and (yield_cores := getattr(self.hub.llm, "yield_cores", None)) is not None:
            # A prefill reading with both cores now would slow the final transcript down. Not when
            # that is the pause partial, already under way beside it: the chunk is the reply's reading.
            yield_cores()
        if self._prefilled is not None and self._prefilled[0] == self.turn and self._prefilled[1]:
            # The reply reuses the note the partial transcripts found: go on reading it and the words
            # they heard, on one core, beside the final transcript, instead of after it. Words the
            # final transcript changes are read again by the reply, from the first that differs.
            facts, _, _ = self.session.measured_facts()
            ahead = build_messages(self._prefilled_words, facts, self._prefilled[1], self.history)
            self.session.spawn(self._read_ahead(ahead), "llm-prefill-note")
        elif (cancel_prefill := getattr(self.hub.llm, "cancel_prefill", None)) is not None:
            cancel_prefill()  # the final transcript needs the cores now; what was read stays cached
        if covering is not None:
            heard, source = covering.heard, "pause_partial"
        else:
            heard, source = asyncio.ensure_future(self.hub.transcribe(audio, True)), "whole_turn"
        # Shielded: dropping the turn must not cancel a transcription the judge is waiting for too.
        spec.task = self.session.spawn(self._understand(audio, timer, spec.gate, asyncio.shield(heard), source),
                                       "speculative-turn")
        if self._turn_options is not None:
            self.session.spawn(self._judge_pause(spec, audio, heard), "end-of-turn")

    async def _judge_pause(self, spec: _Speculation, audio: np.ndarray, heard: asyncio.Future[Any]) -> None:
        """Decide how long this pause must last to end the turn (`turn_end.pause_end_ms`): at once,
        a little longer, or the silence cap. A model that throws leaves the words to decide."""
        assert self._turn_options is not None
        probability: float | None = None
        try:
            probability = await asyncio.get_running_loop().run_in_executor(None, self.hub.turn.probability, audio)
        except Exception as exc:
            log.warning("session %s: end-of-turn model failed: %s", self.session.id, exc)
            self.session.ctx.metrics.model_errors.labels("turn").inc()
        try:
            words: str | None = (await asyncio.shield(heard)).text
        except Exception:
            words = None  # _understand reports the failure
        if self._speculation is not spec:
            return  # they went on speaking, or the silence already ended the turn
        end_ms = pause_end_ms(probability, words, self._turn_options)
        self.session.ctx.metrics.pause_judgements.labels(
            "end" if end_ms == 0 else "wait_cap" if end_ms == self._turn_options.silence_cap_ms else "wait").inc()
        if end_ms > 0:
            self._segmenter.end_pause_after(end_ms)
        elif (event := self._segmenter.end_turn()) is not None:
            self._on_utterance(event)

    def _abandon_speculation(self) -> None:
        """The person went on speaking: drop the speculative reply before anyone hears it."""
        spec, self._speculation = self._speculation, None
        if spec is None:
            return
        reply = self.active
        if reply is not None and reply.gate is spec.gate:
            self.active = None
            reply.stop.set()
            if reply.speaker is not None:
                reply.speaker.cancel()
        if spec.task is not None:
            spec.task.cancel()
        self.cpu.set_answering(False)
        self.session.ctx.metrics.speculative_turns.labels("abandoned").inc()

    def _on_utterance(self, event: UtteranceEnded) -> None:
        self._user_turn_started = False
        self.cpu.set_listening(False)
        spec, self._speculation = self._speculation, None
        if spec is not None and spec.turn == self.turn:
            spec.timer.origin = self._wall_time(event.t_end)
            spec.gate.confirm()  # what it has said and synthesised so far goes out now
            self.session.ctx.metrics.speculative_turns.labels("confirmed").inc()
            return
        timer = TurnTimer(self.turn, speech_end=self._wall_time(event.t_end))
        self.cpu.set_answering(True)
        self.session.spawn(self._understand(event.audio, timer, Gate()), "asr-final")

    async def _understand(self, audio: np.ndarray, timer: TurnTimer, gate: Gate,
                          heard: Awaitable[Any] | None = None, source: str = "whole_turn") -> None:
        """Final transcript of a turn, then the reply; both behind `gate` while it is speculative.

        `heard`: a transcription of every word of the turn already under way (`source` says which:
        the pause partial, or one started with the speculation), which is then its final one."""
        try:
            result = await (heard if heard is not None else self.hub.transcribe(audio, True))
        except Exception as exc:
            self.cpu.set_answering(False)
            gate.run(lambda error=exc: self._model_failed("asr", error))
            return
        finally:
            self._final_transcript_due = False
        timer.stamp("final_transcript")
        self.session.ctx.metrics.stage_latency.labels("asr_final").observe(result.compute_s)
        if not result.text:
            self.cpu.set_answering(False)
            log.info("session %s: utterance dropped (%s)", self.session.id, result.dropped or "empty")
            return
        record = {"turn": timer.turn, "role": "user", "text": result.text, "via": "voice",
                  "audio_s": round(len(audio) / 16_000, 2)}

        def announce() -> None:
            self.session.ctx.metrics.final_transcripts.labels(source).inc()
            self.session.send(Transcript(turn=timer.turn, text=result.text, final=True))
            self.session.ctx.store.record(self.session.id, "turn", record)

        gate.run(announce)
        await self.respond(result.text, timer, speak=self.session.prefs.voice, gate=gate)

    # ------------------------------------------------------------------ answering

    async def answer_text(self, text: str, want_audio: bool) -> None:
        """A typed question (data channel or websocket)."""
        self.turn += 1
        timer = TurnTimer(self.turn)
        self.session.ctx.store.record(self.session.id, "turn", {
            "turn": self.turn, "role": "user", "text": text, "via": "text"})
        speak = self.session.prefs.voice and (self.session.reply_track is not None or want_audio)
        await self.respond(text, timer, speak=speak)

    async def summarise_set(self) -> None:
        """The coach's spoken summary at the end of a set."""
        if self.person_speaking or self.active is not None or self.hub.llm is None:
            return  # never talk over the person or cut off an answer for a summary
        self.turn += 1
        await self.respond(SUMMARY_REQUEST, TurnTimer(self.turn), speak=self.session.prefs.voice,
                           kind="summary")

    async def respond(self, request: str, timer: TurnTimer, speak: bool, kind: ReplyKind = "answer",
                      gate: Gate | None = None) -> None:
        """Start a reply (interrupting any reply in flight) and wait for it to finish.

        A question about what was measured gets its answer from the facts at once (`fact_answers`),
        with or without the LLM; anything else waits for the LLM, and while it is still loading the
        coach says so. `gate` holds what the reply says until its turn is confirmed (speculative
        voice turns).
        """
        said, source = None, "llm"
        if kind == "answer" and (fact := await self._fact_answer(request)) is not None:
            said, source = fact.text, "facts"
        if said is None and self.hub.llm is None:
            (gate or Gate()).run(lambda: self.session.send(
                ErrorMessage(code="llm_unavailable", message=self._unavailable("llm"))))
            status = self.session.ctx.health.get("llm")
            if not speak or self.hub.tts is None or status is None or status.state is not ModelState.LOADING:
                self.cpu.set_answering(False)
                return
            said, source = STILL_LOADING, "still_loading"
        if self.active is not None:
            self.interrupt("new turn")
        reply = _ActiveReply(turn=timer.turn, kind=kind, gate=gate or Gate())
        self.active = reply
        reply.task = asyncio.current_task()  # type: ignore[assignment]
        self.cpu.set_answering(True)
        try:
            await self._reply(request, timer, reply, speak, said, source)
        except asyncio.CancelledError:
            pass  # barge-in or abandoned speculation: the reply has already been stopped
        except Exception as exc:  # a bug of ours must not leave the person waiting in silence
            log.exception("session %s: reply %d failed", self.session.id, reply.turn)
            reply.gate.run(lambda error=exc: self.session.send(ErrorMessage(
                code="answer_failed", message=f"the coach could not answer that ({type(error).__name__}); "
                "please ask again")))
        finally:
            self.cpu.set_answering(False)
            if self.active is reply:
                self.active = None

    async def _fact_answer(self, request: str) -> FactAnswer | None:
        """The answer from the measured facts, if `request` asks for one (a few ms, off the loop)."""
        if self.hub.knowledge is None:
            return None
        facts = self.session.fact_sheet()
        try:
            return await asyncio.get_running_loop().run_in_executor(None, self.hub.answer_from_facts, request, facts)
        except Exception as exc:  # the embedder threw: the LLM answers instead
            log.warning("session %s: fact answer failed: %s", self.session.id, exc)
            return None

    async def _reply(self, request: str, timer: TurnTimer, reply: _ActiveReply, speak: bool,
                     said: str | None, source: str) -> None:
        """The reply: `said` (a fact answer, or that the LLM is loading) is said as is; otherwise
        the LLM answers, grounded in the measured facts and the coaching note found for the request."""
        session = self.session
        facts, exercise, faults = session.measured_facts()
        passages: list[Any] = []
        if said is None:
            read = self._prefilled[1] if self._prefilled is not None and self._prefilled[0] == reply.turn \
                and reply.kind == "answer" else None
            if read and self._prefilled_words == request:
                passages = read  # found for these very words, and already in the KV cache
            else:
                # The whole question may find a note the words so far did not, or a better one than a
                # misheard partial did ("How long should I rest this week?" found the deload note); the
                # note already read stays while it is still among the best two (`_find_note`).
                query = request if reply.kind != "summary" else "how did my set go, what to fix next set"
                passages = await self._find_note(query, exercise, faults, keep=read)
            timer.stamp("retrieval")
        citations = [Citation(id=p.doc_id, title=p.title) for p in passages]

        if speak and self.hub.tts is not None:
            reply.speaker = Speaker(self.hub.tts, self.hub.tts_pool, self._sink(timer, reply.gate), reply.stop,
                                    on_first_audio=lambda: timer.stamp("tts_first_audio"))
        chunker = SentenceChunker()
        failed: BaseException | None = None
        if said is None:
            failed = await self._generate(build_messages(request, facts, passages, self.history), reply, chunker,
                                          timer)
        else:
            timer.stamp("answer_text")
            self._say(said, reply, chunker, timer)
        for sentence in chunker.flush():
            timer.stamp("first_sentence")
            if reply.speaker:
                reply.speaker.say(sentence)

        def conclude() -> None:
            if failed is not None:
                self._model_failed("llm", failed)
            elif not reply.text:
                session.send(ErrorMessage(code="llm_no_answer",
                                          message="the language model gave no answer in time; please ask again"))
            session.send(Reply(turn=reply.turn, done=True, kind=reply.kind, citations=citations))
            session.ctx.metrics.answers.labels(source).inc()
            self._remember(request, reply, interrupted=False, citations=citations)

        reply.gate.run(conclude)
        if reply.speaker:
            await reply.speaker.finish()
        # The LLM is free while the answer is spoken: read the next turn's context now. Not before
        # the answer is synthesised: a short answer is often written before its first words are,
        # and this prefill beside Piper made them ~0.2 s late ("I did not see any reps yet.").
        reply.gate.run(lambda: self.session.spawn(self._prefill(self.turn, None), "llm-prefill"))
        # With speech queued but not yet on the wire, the first frame's callback reports instead.
        if reply.speaker is None or not reply.speaker.produced_audio or "first_reply_frame" in timer:
            reply.gate.run(lambda: self._report(timer))

    async def _generate(self, messages: list[dict[str, str]], reply: _ActiveReply, chunker: SentenceChunker,
                        timer: TurnTimer) -> BaseException | None:
        """Stream the LLM's answer into `_say`; returns what the model threw, if it did."""
        loop = asyncio.get_running_loop()
        tags = NoteTagFilter()
        deltas: asyncio.Queue[str | BaseException | None] = asyncio.Queue()

        def generate() -> None:
            try:
                for delta in self.hub.llm.stream(messages, stop_event=reply.stop, spare_core=spare_core):
                    loop.call_soon_threadsafe(deltas.put_nowait, delta)
                    if reply.speaker is not None:
                        reply.speaker.wait_while_first_synthesis(self.options.first_synthesis_wait_s)
            except Exception as exc:  # the model threw: reported, the session goes on
                loop.call_soon_threadsafe(deltas.put_nowait, exc)
            finally:
                loop.call_soon_threadsafe(deltas.put_nowait, None)

        spare_core = self._core_spare()
        generation = loop.run_in_executor(self.hub.reply_pool, generate)
        failed: BaseException | None = None
        while (delta := await deltas.get()) is not None:
            if isinstance(delta, BaseException):
                failed = delta
                continue
            timer.stamp("llm_first_token")
            self._say(tags.push(delta), reply, chunker, timer)
        await generation
        self._say(tags.flush(), reply, chunker, timer)
        return failed

    def _say(self, text: str, reply: _ActiveReply, chunker: SentenceChunker, timer: TurnTimer) -> None:
        """Reply text to the client as it comes, and each piece worth speaking to the speaker."""
        if not text:
            return
        reply.text += text
        reply.send(self.session, Reply(turn=reply.turn, delta=text, kind=reply.kind))
        for sentence in chunker.push(text):
            timer.stamp("first_sentence")
            if reply.speaker:
                reply.speaker.say(sentence)

    async def _find_note(self, query: str, exercise: str | None, faults: list[str],
                         keep: list[Any] | None = None) -> list[Any]:
        """`find_note` off the event loop (an embedding costs a few ms)."""
        if self.hub.knowledge is None:
            return []
        return await asyncio.get_running_loop().run_in_executor(
            None, functools.partial(find_note, self.hub.knowledge, query, exercise, faults, keep=keep))

    def _sink(self, timer: TurnTimer, gate: Gate) -> AudioSink:
        def first_sent() -> None:
            self.cpu.set_answering(False)
            timer.stamp("first_reply_frame")
            if self.active is None or self.active.turn != timer.turn:
                self._report(timer)  # the reply finished before its first frame went out

        track = self.session.reply_track
        if track is not None:
            return TrackAudioSink(track, gate, first_sent)
        return WebSocketAudioSink(self.session.channel.send_audio, self.hub.tts.sample_rate,
                                  asyncio.get_running_loop(), gate, first_sent)

    def interrupt(self, reason: str) -> None:
        """Barge-in: silence the coach now, stop its LLM and TTS work, remember it was cut off."""
        reply, self.active = self.active, None
        if reply is None:
            return
        reply.stop.set()
        dropped = self.session.reply_track.flush() if self.session.reply_track is not None else 0.0
        if reply.speaker is not None:
            reply.speaker.cancel()
        if reply.task is not None and reply.task is not asyncio.current_task():
            reply.task.cancel()
        reply.send(self.session, Reply(turn=reply.turn, done=True, interrupted=True, kind=reply.kind))
        if reply.kind != "cue":
            reply.gate.run(lambda: self._remember(None, reply, interrupted=True, citations=[]))
        log.info("session %s: reply %d interrupted (%s), %.2f s of speech dropped", self.session.id,
                 reply.turn, reason, dropped)

    # ------------------------------------------------------------------ cues

    def on_coach_event(self, event: dict[str, Any]) -> None:
        """An analysis event: maybe a spoken cue (templates, no LLM), never over the person."""
        self.cues.verbosity = self.session.prefs.cue_verbosity
        if self.person_speaking or self.active is not None:
            return
        text = self.cues.cue_for(event)
        if text is None:
            return
        self.session.send(Reply(turn=self.turn, delta=text, done=True, kind="cue"))
        track = self.session.reply_track
        if self.session.prefs.voice and self.hub.tts is not None and track is not None:
            self.session.spawn(self._speak_cue(text, track), "cue")

    async def _speak_cue(self, text: str, track: ReplyAudioTrack) -> None:
        reply = _ActiveReply(turn=self.turn, kind="cue", text=text)
        self.active = reply
        reply.task = asyncio.current_task()  # type: ignore[assignment]
        started = time.monotonic()

        def first_sent() -> None:
            self.session.ctx.metrics.stage_latency.labels("cue_to_audio").observe(time.monotonic() - started)

        reply.speaker = Speaker(self.hub.tts, self.hub.tts_pool, TrackAudioSink(track, Gate(), first_sent), reply.stop)
        try:
            reply.speaker.say(text)
            await reply.speaker.finish()
        except asyncio.CancelledError:
            pass
        finally:
            if self.active is reply:
                self.active = None

    # ------------------------------------------------------------------ bookkeeping

    def _remember(self, request: str | None, reply: _ActiveReply, interrupted: bool,
                  citations: list[Citation]) -> None:
        if request is not None and reply.kind == "answer":
            self.history.append(HistoryTurn("user", request))
        if reply.text:
            self.history.append(HistoryTurn("assistant", reply.text, interrupted=interrupted))
        del self.history[:max(0, len(self.history) - self.options.max_history)]
        self.session.ctx.store.record(self.session.id, "turn", {
            "turn": reply.turn, "role": "assistant", "kind": reply.kind, "text": reply.text,
            "interrupted": interrupted, "citations": [c.model_dump() for c in citations]})

    def _report(self, timer: TurnTimer) -> None:
        if timer.reported:
            return
        timer.reported = True
        stages = timer.stages_ms()
        for stage, label in (("llm_first_token", "llm_first_token"), ("first_reply_frame", "voice_to_voice")):
            if stage in stages:
                self.session.ctx.metrics.stage_latency.labels(label).observe(stages[stage] / 1000)
        self.session.send(TurnMetrics(turn=timer.turn, stages=stages))
        self.session.ctx.store.record(self.session.id, "latency", {"turn": timer.turn, **stages})

    def _unavailable(self, family: str) -> str:
        status = self.session.ctx.health.get(family)
        if status is None:
            return f"the {family} model is not loaded on this server"
        return f"the {family} model is {status.state.value}" + (f": {status.reason}" if status.reason else "")

    def _model_failed(self, family: str, exc: BaseException) -> None:
        log.error("session %s: %s failed: %s", self.session.id, family, exc, exc_info=exc)
        self.session.ctx.metrics.model_errors.labels(family).inc()
        self.session.send(ErrorMessage(code=f"{family}_failed", message=f"the {family} model failed: {exc}"))

    def close(self) -> None:
        self.cpu.release()
        if self.active is not None:
            self.active.stop.set()
            if self.active.speaker is not None:
                self.active.speaker.cancel()
