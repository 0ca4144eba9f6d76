"""The conversation of one session: listen, understand, answer, speak, and stop when interrupted.

The parts, each in its own module:
  * `listener.py` hears the person: VAD, partial transcripts, the moments of their turn;
  * `read_ahead.py` reads the turn's prompt into the LLM's cache while they talk;
  * `reply.py` is one reply in flight, with the gate, stop event and speaker that end together;
  * `answering.py` finds the words of an answer: from the measured facts (`fact_answers.py`), the
    coaching notes, or streamed from the LLM;
  * `sinks.py` carries its speech to the transport (WebRTC track or websocket), `cues.py` chooses
    the coach's own cues.

This module wires them. When the person pauses, a partial transcript of every word starts at once;
at 150 ms of silence the reply starts speculatively from it (it is the final transcript: Whisper
does not run again), held back by a `Gate` until the end of the turn is confirmed (or dropped
unheard if the person goes on). Smart Turn and the pause transcript's words judge that pause
(`turn_end.py`): finished, the turn ends there; mid-sentence, it ends only at a longer silence cap,
so a person catching their breath is not answered on half a question. Without Smart Turn, the
VAD's silence ends the turn. A question about what was measured is answered from the facts; any
other answer streams from the LLM, grounded in the measured facts and the retrieved coaching note;
its text deltas go to the client as they come and its sentences go to TTS as soon as each is
complete. When the person starts speaking over the coach (barge-in), the reply track is flushed and
the LLM and TTS work is stopped at once; where the coach's voice comes back into the microphone, a
sound that may be the person starting to talk pauses it first (`on_maybe_speech`). Whenever what
the coach hears or does changes, the client gets a `VoiceState` (listener: idle / speaking /
paused; reply: idle / thinking / speaking).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from models.health import ModelState
from models.tts import SentenceChunker
from models.turn import TurnOptions
from models.vad import Segmenter, UtteranceEnded, VadOptions
from realtime.media.reply_track import ReplyAudioTrack
from realtime.protocol import Citation, ErrorMessage, Reply, Status, Transcript, TurnMetrics, VoiceState
from realtime.session_ports import ConversationHost
from realtime.tracing import wall_time_of
from realtime.voice.answering import AnswerSources
from realtime.voice.cues import CuePolicy
from realtime.voice.gate import Gate
from realtime.voice.language import ConversationLanguage, language_name, reply_language
from realtime.voice.listener import Listener, ListenerState, PartialRun
from realtime.voice.own_voice import OwnWords
from realtime.voice.read_ahead import ReadAhead
from realtime.voice.reply import ActiveReply, ReplyKind, ReplyState
from realtime.voice.responder import SUMMARY_REQUEST, HistoryTurn, build_messages
from realtime.voice.sinks import TrackAudioSink, WebSocketAudioSink
from realtime.voice.speaker import AudioSink, Speaker
from realtime.voice.turn_end import pause_end_ms
from realtime.voice.turn_timer import TurnTimer

log = logging.getLogger(__name__)

STILL_LOADING = "One moment: I'm still getting ready. Ask me again in a few seconds."


@dataclass
class _Speculation:
    """A turn being answered from its first silence, before the VAD has confirmed its end."""

    turn: int
    timer: TurnTimer
    gate: Gate
    task: asyncio.Task[None] | None = None


class Conversation:
    """Voice and text turns of one session, and the coach's own cues.

    `clock` (monotonic seconds) times partial transcripts and maps the microphone stream to wall
    time; a test drives it by hand."""

    def __init__(self, session: ConversationHost, clock: Callable[[], float] = time.monotonic) -> None:
        self.session = session
        self.hub = session.ctx.hub
        self.options = session.ctx.settings.voice
        self.clock = clock
        self.turn = 0
        self.history: list[HistoryTurn] = []
        self.language = ConversationLanguage()
        self._notes_sent: set[str] = set()  # what the person was told once about the reply's language
        self.cues = CuePolicy()
        self.active: ActiveReply | None = None
        self.listener: Listener | None = None  # made with the first audio, once the VAD is loaded
        self.sources = AnswerSources(self.hub, self.options.first_synthesis_wait_s, session.id)
        self.read_ahead = ReadAhead(lambda: self.hub.llm, self.hub.prefill_pool, self.sources.find_note,
                                    self._core_spare, self.options.min_words_to_retrieve)
        self._turn_options: TurnOptions | None = None  # set when Smart Turn judges pauses
        self._sentence_reading = False  # the sentence model is reading a partial transcript ahead
        self._voice_turn = 0  # the conversation's turn number of the person's current spoken turn
        self._speculation: _Speculation | None = None
        self.reply_state = ReplyState.IDLE
        self._reply_turn = 0  # the turn of the latest reply shown thinking: an older one's end is old news
        self._published: tuple[ListenerState, ReplyState] = (ListenerState.IDLE, ReplyState.IDLE)
        self.cpu = self.hub.cpu.claim()  # listening / answering: the cores' priority (cpu_share.py)
        self._final_transcript_due = False  # from the first silence until Whisper has made it
        self.own_words = OwnWords(clock)  # what the coach said lately, to know its echo in a transcript
        self._hold_release: asyncio.TimerHandle | None = None  # ends a pause of the reply (on_maybe_speech)

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

    # ------------------------------------------------------------------ state published to the client

    @property
    def listener_state(self) -> ListenerState:
        return self.listener.state if self.listener is not None else ListenerState.IDLE

    def _publish(self) -> None:
        """A `VoiceState` to the client when what the coach hears or does changed."""
        state = (self.listener_state, self.reply_state)
        if state != self._published:
            self._published = state
            self.session.send(VoiceState(listener=state[0].value, reply=state[1].value, turn=self.turn))

    def _reply_is(self, state: ReplyState, turn: int) -> None:
        """The reply to `turn` is thinking, speaking or over. A speculative reply's changes go through
        its gate, like its messages, so the client sees them in order once the turn is confirmed."""
        if turn < self._reply_turn:
            return  # a reply that ended after a newer turn began
        if state is ReplyState.THINKING:
            self._reply_turn = turn
        self.reply_state = state
        self._publish()

    # ------------------------------------------------------------------ listening

    def push_audio(self, pcm16k: np.ndarray) -> None:
        """Microphone audio from the session's audio track (on the event loop)."""
        if self.hub.vad is None or self.hub.asr is None:
            return
        if self.listener is None:
            self.listener = self._listen()
        echo = self.session.echo
        # The coach's own voice coming back louder than AEC3 took out is heard as silence: nobody's
        # turn starts. While it is not known yet whether the coach's voice comes back at all, the
        # microphone is held, and heard unless an echo was found meanwhile (`_own_echo` then checks
        # the words of a turn that began in it).
        self.listener.push(pcm16k, heard_as_silence=echo is not None and echo.only_echo(),
                           held=echo is not None and echo.unsure(),
                           replay_held=echo is not None and not echo.echo_found)
        self._publish()

    def _listen(self) -> Listener:
        models = self.session.ctx.settings.models
        vad_options = VadOptions.model_validate(models.vad)
        if self.hub.turn is not None:
            self._turn_options = TurnOptions.model_validate(models.turn)
        cap = self._turn_options.silence_cap_ms if self._turn_options is not None else None
        segmenter = Segmenter(self.hub.vad, vad_options, turn_end_ms=cap)
        return Listener(segmenter, vad_options, self.options, self.hub.transcribe, self, self.session.spawn,
                        self.clock)

    @property
    def person_speaking(self) -> bool:
        return self.listener is not None and self.listener.person_speaking

    def _in_voice_turn(self, turn: int) -> bool:
        """`turn` is the person's spoken turn in progress, and nothing newer began."""
        return turn == self.turn == self._voice_turn and self.listener is not None and self.listener.in_turn

    def on_maybe_speech(self, maybe: bool) -> None:
        """A sound that may be the person starting to talk over the coach's echo pauses the coach's
        voice (`ConversationOptions.hold_on_maybe_speech_s`): the echo stops a round trip later, and
        what the person says next is heard whole, or the sound ends and the reply goes on."""
        track = self.session.reply_track
        if track is None:
            return
        if not maybe:
            self._release_hold()
            return
        echo = self.session.echo
        if (self.options.hold_on_maybe_speech_s <= 0 or self.active is None or echo is None
                or not echo.echo_found or track.pending_seconds <= 0 or track.held):
            return
        track.hold()
        self._hold_release = asyncio.get_running_loop().call_later(self.options.hold_on_maybe_speech_s,
                                                                   self._release_hold)
        log.info("session %s: reply %d paused, a sound over its echo may be the person", self.session.id,
                 self.active.turn)

    def _release_hold(self) -> None:
        """The reply's voice goes on where `on_maybe_speech` paused it (nothing to do if it did not)."""
        if self._hold_release is not None:
            self._hold_release.cancel()
            self._hold_release = None
        if self.session.reply_track is not None:
            self.session.reply_track.release()

    def on_speech_started(self, new_turn: bool) -> None:
        if new_turn:
            self.turn += 1
            self._voice_turn = self.turn
            self.read_ahead.forget()
        self.cpu.set_listening(True)
        self.cpu.set_answering(False)
        if self.active is not None:
            self.interrupt("barge-in")
        self.session.spawn(self._prefill(self.turn, None), "llm-prefill")

    def on_partial(self, text: str) -> None:
        turn = self._voice_turn
        self.session.send(Transcript(turn=turn, text=text, final=False))
        if self._speculation is None and turn == self.turn:  # else the reply already reads the whole question
            self.session.spawn(self._prefill(turn, text), "llm-prefill")
            self._read_words_ahead(text)

    async def _prefill(self, turn: int, words: str | None) -> None:
        """Read the turn's prompt so far into the LLM's cache (`read_ahead.py`)."""
        await self.read_ahead.prefill(turn, words, self.session.measured_facts(), self.history,
                                      still_current=lambda: self._in_voice_turn(turn) and self._speculation is None)

    def refresh_context(self) -> None:
        """New facts (a rep, a set): re-read them into the KV cache while nobody needs the LLM, and
        only in the server's one conversation (realtime/cpu_share.py: with several, the reads evict
        each other's)."""
        if self.active is None and not self.cpu.listening and not self.cpu.answering and self.cpu.alone:
            self.session.spawn(self._prefill(self.turn, None), "llm-refresh")

    def on_pause(self, audio: np.ndarray, voiced_end: float, covering: PartialRun | None) -> None:
        """Silence has begun: transcribe and answer now, heard only if the turn's end is confirmed."""
        assert self.listener is not None
        timer = TurnTimer(self.turn, speech_end=self.listener.wall_time(voiced_end), clock=self.clock)
        spec = _Speculation(turn=self.turn, timer=timer, gate=Gate(confirmed=False))
        self._speculation = spec
        spec.gate.run(lambda turn=self.turn: self._reply_is(ReplyState.THINKING, turn))
        self.cpu.set_answering(True)
        self._final_transcript_due = True
        if covering is None:
            # A read with both cores now would slow the final transcript down. Not when that is the
            # pause partial, already under way beside it: the chunk is the reply's reading.
            self.read_ahead.yield_cores()
        facts, _, _ = self.session.measured_facts()
        if (ahead := self.read_ahead.continue_note(self.turn, facts, self.history)) is not None:
            # The reply reuses the note the partial transcripts found: go on reading it and the words
            # they heard, on one core, beside the final transcript, instead of after it. Words the
            # final transcript changes are read again by the reply, from the first that differs.
            self.session.spawn(self.read_ahead.read(ahead), "llm-prefill-note")
        else:
            self.read_ahead.stop()  # the final transcript needs the cores now; what was read stays cached
        if covering is not None:
            heard, source = covering.heard, "pause_partial"
        else:
            heard, source = asyncio.ensure_future(self.hub.transcribe(audio, True, True)), "whole_turn"
        # Shielded: dropping the turn must not cancel a transcription the judge is waiting for too.
        spec.task = self.session.spawn(self._understand(audio, timer, spec.gate, asyncio.shield(heard), source),
                                       "speculative-turn")
        if self._turn_options is not None:
            self.session.spawn(self._judge_pause(spec, audio, heard), "end-of-turn")

    async def _judge_pause(self, spec: _Speculation, audio: np.ndarray, heard: asyncio.Future[Any]) -> None:
        """Decide how long this pause must last to end the turn (`turn_end.pause_end_ms`): at once,
        a little longer, or the silence cap. Smart Turn hears the audio while the sentence model
        reads the words; a model that throws leaves the others to decide."""
        assert self._turn_options is not None and self.listener is not None
        began = self.clock()
        sound = asyncio.ensure_future(self._probability("turn", self.hub.turn.probability, audio))
        try:
            transcript = await asyncio.shield(heard)
            words: str | None = transcript.text
        except Exception:
            transcript, words = None, None  # _understand reports the failure
        # The sentence model reads what Whisper heard when it may not close the sentence: before a
        # mid-sentence pause it drops the dangling word to make a whole question of the rest.
        reading = (transcript.unclosed_text or words) if transcript is not None and words else None
        sentence_end = await self._sentence_end(reading) if reading else None
        probability = await sound
        # Against the silence cap: a judgement slower than the cap never ends a turn.
        self.session.ctx.metrics.stage_latency.labels("pause_judgement").observe(self.clock() - began)
        if self._speculation is not spec:  # they went on speaking, or the silence cap ended the turn
            self.session.ctx.metrics.pause_judgements.labels("overtaken").inc()
            return
        end_ms = pause_end_ms(probability, words, self._turn_options, sentence_end)
        self.session.ctx.metrics.pause_judgements.labels(
            "end" if end_ms == 0 else "wait_cap" if end_ms == self._turn_options.silence_cap_ms else "wait").inc()
        if end_ms > 0:
            self.listener.end_pause_after(end_ms)
        else:
            self.listener.end_turn()

    async def _sentence_end(self, words: str) -> float | None:
        """The sentence model's probability that `words` end a sentence; None without it or if it throws."""
        model = self.hub.sentence_end
        return None if model is None else await self._probability("sentence_end", model.probability, words)

    async def _probability(self, family: str, model: Callable[[Any], float], heard: Any) -> float | None:
        """An end-of-turn model's probability, off the event loop; None if it throws, logged and
        counted the moment it does (not once the other opinions are in): a judgement the silence
        cap overtakes still shows the failure."""
        try:
            return await asyncio.get_running_loop().run_in_executor(None, model, heard)
        except Exception as exc:
            log.warning("session %s: %s model failed: %s", self.session.id, family, exc)
            self.session.ctx.metrics.model_errors.labels(family).inc()
            return None

    def _read_words_ahead(self, text: str) -> None:
        """Let the sentence model read a partial transcript while they talk, so that at the pause it
        reads only the last words (its context keeps what the next call shares); one at a time."""
        if self.hub.sentence_end is None or self._sentence_reading:
            return
        self._sentence_reading = True

        async def read() -> None:
            try:
                await self._sentence_end(text)
            finally:
                self._sentence_reading = False

        self.session.spawn(read(), "sentence-read-ahead")

    def on_went_on(self) -> None:
        """The person went on speaking: drop the speculative reply before anyone hears it."""
        spec, self._speculation = self._speculation, None
        if spec is None:
            return
        reply = self.active
        if reply is not None and reply.gate is spec.gate:
            self.active = None
            reply.halt()
        if spec.task is not None:
            spec.task.cancel()
        self.cpu.set_answering(False)
        self.session.ctx.metrics.speculative_turns.labels("abandoned").inc()

    def on_turn_end(self, event: UtteranceEnded) -> None:
        assert self.listener is not None
        self.cpu.set_listening(False)
        spec, self._speculation = self._speculation, None
        if spec is not None and spec.turn == self.turn:
            spec.timer.origin = self.listener.wall_time(event.t_end)
            # Its first held action shows it thinking (with the person's turn over), then what it did meanwhile.
            spec.gate.confirm()  # what it has said and synthesised so far goes out now
            self.session.ctx.metrics.speculative_turns.labels("confirmed").inc()
            return
        timer = TurnTimer(self.turn, speech_end=self.listener.wall_time(event.t_end), clock=self.clock)
        self.cpu.set_answering(True)
        self._reply_is(ReplyState.THINKING, self.turn)
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
            gate.run(lambda: self._reply_is(ReplyState.IDLE, timer.turn))
            return
        finally:
            self._final_transcript_due = False
        timer.stamp("final_transcript")
        self.session.ctx.metrics.stage_latency.labels("asr_final").observe(result.compute_s)
        dropped = None
        if not result.text:
            dropped = result.dropped or "empty"
        elif self._own_echo(result.text):
            dropped = "the coach's own words"
        if dropped is not None:
            self.cpu.set_answering(False)
            log.info("session %s: utterance dropped (%s): %r", self.session.id, dropped, result.text)
            gate.run(lambda: self._reply_is(ReplyState.IDLE, timer.turn))
            return
        record = {"turn": timer.turn, "role": "user", "text": result.text, "via": "voice",
                  "audio_s": round(len(audio) / 16_000, 2)}

        def announce() -> None:
            self.session.ctx.metrics.final_transcripts.labels(source).inc()
            self.session.send(Transcript(turn=timer.turn, text=result.text, final=True))
            self.session.ctx.store.record(self.session.id, "turn", record)

        gate.run(announce)
        language = self.language.heard(result.language, result.language_probability)
        await self.respond(result.text, timer, speak=self.session.prefs.voice, gate=gate, language=language)

    def _own_echo(self, text: str) -> bool:
        """A transcript of the coach's own recent words, heard from a microphone known to carry its
        voice back, or in a turn that began while that was not known yet (`own_voice.py`); a client
        known to cancel its own echo is never second-guessed."""
        echo = self.session.echo
        doubt = echo is not None and (echo.echo_found or (self.listener is not None and self.listener.began_held
                                                          and not echo.no_echo))
        return doubt and self.own_words.is_echo(text)

    # ------------------------------------------------------------------ answering

    async def answer_text(self, text: str, want_audio: bool) -> None:
        """A typed question (data channel or websocket)."""
        self.turn += 1
        timer = TurnTimer(self.turn, clock=self.clock)
        self.session.ctx.store.record(self.session.id, "turn", {
            "turn": self.turn, "role": "user", "text": text, "via": "text"})
        self._reply_is(ReplyState.THINKING, self.turn)
        speak = self.session.prefs.voice and (self.session.reply_track is not None or want_audio)
        await self.respond(text, timer, speak=speak)

    async def summarise_set(self, reps: int, hold_s: float | None) -> None:
        """The coach's spoken summary at the end of a set of `reps` reps (or a hold of `hold_s`):
        only for a set of at least `summary_min_reps` (a hold is a set once it lasted its
        exercise's least hold)."""
        if hold_s is None and reps < self.options.summary_min_reps:
            return
        if self.person_speaking or self.active is not None or self.hub.llm is None:
            return  # never talk over the person or cut off an answer for a summary
        self.turn += 1
        self._reply_is(ReplyState.THINKING, self.turn)
        await self.respond(SUMMARY_REQUEST, TurnTimer(self.turn, clock=self.clock), speak=self.session.prefs.voice,
                           kind="summary")

    async def respond(self, request: str, timer: TurnTimer, speak: bool, kind: ReplyKind = "answer",
                      gate: Gate | None = None, language: str | None = None) -> None:
        """Start a reply (interrupting any reply in flight) and wait for it to finish.

        A question about what was measured gets its answer from the facts at once (`fact_answers`),
        with or without the LLM; anything else waits for the LLM, and while it is still loading the
        coach says so. `gate` holds what the reply says until its turn is confirmed (speculative
        voice turns). `language`: the one Whisper heard the request in (None: unknown or typed);
        the fact answers are English sentences, so another language's question goes to the LLM.
        """
        said, source = None, "llm"
        english = language in (None, "en")
        if kind == "answer" and english and (
                fact := await self.sources.from_facts(request, self.session.fact_sheet)) is not None:
            said, source = fact.text, "facts"
            # No LLM in this answer: the note still being read for it would take a core from Piper.
            self.read_ahead.stop()
        if said is None and self.hub.llm is None:
            (gate or Gate()).run(lambda: self.session.send(
                ErrorMessage(code="llm_unavailable", message=self._unavailable("llm"))))
            status = self.session.ctx.health.get("llm")
            if not speak or self.hub.tts is None or status is None or status.state is not ModelState.LOADING:
                self.cpu.set_answering(False)
                (gate or Gate()).run(lambda: self._reply_is(ReplyState.IDLE, timer.turn))
                return
            said, source = STILL_LOADING, "still_loading"
        if self.active is not None:
            self.interrupt("new turn")
        reply = ActiveReply(turn=timer.turn, kind=kind, gate=gate or Gate(), timer=timer)
        self.active = reply
        reply.task = asyncio.current_task()  # type: ignore[assignment]
        self.cpu.set_answering(True)
        try:
            await self._reply(request, timer, reply, speak, said, source, language)
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
            reply.gate.run(lambda: self._reply_is(ReplyState.IDLE, reply.turn))

    async def _reply(self, request: str, timer: TurnTimer, reply: ActiveReply, speak: bool,
                     said: str | None, source: str, language: str | None) -> None:
        """The reply: `said` (a fact answer, or that the LLM is loading) is said as is; otherwise
        the LLM answers, grounded in the measured facts and the coaching note found for the request,
        in the person's language where the reply can be said in it (`language.reply_language`)."""
        session = self.session
        spoken = speak and self.hub.tts is not None
        answer_in = reply_language(language, spoken, self.hub.tts.languages if spoken else frozenset())
        if answer_in.note is not None and answer_in.note not in self._notes_sent:
            self._notes_sent.add(answer_in.note)
            reply.gate.run(lambda: session.send(Status(state="language", message=answer_in.note or "")))
        facts, exercise, faults = session.measured_facts()
        passages: list[Any] = []
        if said is None:
            read = self.read_ahead.note_for(reply.turn) if reply.kind == "answer" else None
            if read and self.read_ahead.noted_words == request:
                passages = read  # found for these very words, and already in the KV cache
            else:
                # The whole question may find a note the words so far did not, or a better one than a
                # misheard partial did ("How long should I rest this week?" found the deload note); the
                # note already read stays while it is still among the best two (`responder.find_note`).
                query = request if reply.kind != "summary" else "how did my set go, what to fix next set"
                passages = await self.sources.find_note(query, exercise, faults, keep=read)
            timer.stamp("retrieval")
        citations = [Citation(id=p.doc_id, title=p.title) for p in passages]

        if speak and self.hub.tts is not None:
            def first_audio() -> None:
                timer.stamp("tts_first_audio")
                reply.gate.run(lambda: self._reply_is(ReplyState.SPEAKING, reply.turn))

            reply.speaker = Speaker(self.hub.tts, self.hub.tts_pool, self._sink(timer, reply.gate), reply.stop,
                                    on_first_audio=first_audio, on_spoken=self.own_words.said,
                                    language=answer_in.code if said is None else None)  # `said` is English
        chunker = SentenceChunker()
        failed: BaseException | None = None
        if said is None:
            failed = await self.sources.stream_llm(
                build_messages(request, facts, passages, self.history,
                               language=None if answer_in.code is None else language_name(answer_in.code)),
                reply, self._core_spare(),
                on_token=lambda: timer.stamp("llm_first_token"),
                on_text=lambda text: self._say(text, reply, chunker, timer))
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
        # A spoken reply is reported by its first frame's callback (`_sink`), cut off later or not.
        if reply.speaker is None or not reply.speaker.produced_audio:
            reply.gate.run(lambda: self._report(timer))
        if reply.speaker is not None:
            await self._played_out()

    async def _played_out(self) -> None:
        """Wait until the reply track has played what is queued on it. The reply is heard until
        then and stays the active one, so a person speaking over its tail barges in and flushes it
        (cancelling this wait): on a fast machine a long answer is synthesised many seconds before
        it has been said. The track plays in real time, so this sleeps for what is left rather
        than polling; bounded by the queued length plus 1 s, in case the client stops taking audio."""
        track = self.session.reply_track
        if track is None:
            return
        loop = asyncio.get_running_loop()  # real time, whatever self.clock says
        deadline = loop.time() + track.pending_seconds + 1.0
        while (left := track.pending_seconds) > 0 and (until_deadline := deadline - loop.time()) > 0:
            await asyncio.sleep(min(left, until_deadline))

    def _say(self, text: str, reply: ActiveReply, chunker: SentenceChunker, timer: TurnTimer) -> None:
        """Reply text to the client as it comes, and each piece worth speaking to the speaker."""
        if not text:
            return
        reply.text += text
        reply.send(self.session, Reply(turn=reply.turn, delta=text, kind=reply.kind))
        if reply.speaker is None and not reply.sounding:
            reply.sounding = True
            reply.gate.run(lambda: self._reply_is(ReplyState.SPEAKING, reply.turn))
        for sentence in chunker.push(text):
            timer.stamp("first_sentence")
            if reply.speaker:
                reply.speaker.say(sentence)

    def _sink(self, timer: TurnTimer, gate: Gate) -> AudioSink:
        def first_sent() -> None:
            self.cpu.set_answering(False)
            timer.stamp("first_reply_frame")
            # After the speaker's first-audio callback (`tts_first_audio`): the TTS thread queued it
            # on the loop before it handed over this audio, and the track may send it first.
            asyncio.get_running_loop().call_soon(self._report, timer)

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
        reply.halt()
        self._release_hold()
        dropped = self.session.reply_track.flush() if self.session.reply_track is not None else 0.0
        reply.gate.run(lambda: self._reply_is(ReplyState.IDLE, reply.turn))
        reply.send(self.session, Reply(turn=reply.turn, done=True, interrupted=True, kind=reply.kind))
        if reply.kind != "cue":
            reply.gate.run(lambda: self._remember(None, reply, interrupted=True, citations=[]))
        if reply.timer is not None:  # its stages so far; without `first_reply_frame` if none was heard
            reply.gate.run(lambda timer=reply.timer: self._report(timer))
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
        reply = ActiveReply(turn=self.turn, kind="cue", text=text)
        self.active = reply
        reply.task = asyncio.current_task()  # type: ignore[assignment]
        started = time.monotonic()

        def first_sent() -> None:
            self.session.ctx.metrics.stage_latency.labels("cue_to_audio").observe(time.monotonic() - started)

        reply.speaker = Speaker(self.hub.tts, self.hub.tts_pool, TrackAudioSink(track, Gate(), first_sent), reply.stop,
                                on_first_audio=lambda: self._reply_is(ReplyState.SPEAKING, reply.turn),
                                on_spoken=self.own_words.said)
        try:
            reply.speaker.say(text)
            await reply.speaker.finish()
        except asyncio.CancelledError:
            pass
        finally:
            if self.active is reply:
                self.active = None
            self._reply_is(ReplyState.IDLE, reply.turn)

    # ------------------------------------------------------------------ bookkeeping

    def _remember(self, request: str | None, reply: ActiveReply, interrupted: bool,
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
        self.session.ctx.tracer.turn(self.session.id, timer.turn, wall_time_of(timer.origin), stages)
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
        self._release_hold()  # no pause timer outlives the session
        if self.active is not None:
            self.active.halt()
