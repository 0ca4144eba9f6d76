"""The turn state machine on fake models and a scripted clock: the fast tier beside the real-model
voice tests (tests/test_voice_live.py), running in a few seconds.

The fakes stand for the models only; everything between them is the product's code: the real
`Conversation`, `Listener`, VAD `Segmenter`, gate, speaker, websocket audio sink and the turn
judgement. Speech is scripted as words (a word: 0.32 s of sound, then one silent VAD window), so the
fake recogniser hears as many words of its sentence as the audio holds voiced runs, and the fake
end-of-turn model calls a turn finished when every word was said. The clock advances with the
microphone audio pushed, not with the wall.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from models.asr.protocol import Transcript as Heard
from models.health import HealthRegistry
from models.tts.protocol import AudioChunk
from models.vad import WINDOW_SAMPLES
from realtime.config import load_settings
from realtime.media.reply_track import ReplyAudioTrack
from realtime.context import ServerContext
from realtime.metrics import ServerMetrics
from realtime.model_hub import ModelHub
from realtime.protocol import Reply, Status, Transcript, TurnMetrics, VoiceState
from realtime.session_ports import Preferences
from realtime.records.sqlite import SqliteRecordStore
from realtime.voice.conversation import Conversation

RATE = 16_000
WORD_WINDOWS = 10  # a word: 0.32 s of sound
SOUND = 0.2  # amplitude of a scripted word; silence is 0
QUESTION = "how many reps did i do?"  # closed as Whisper closes a whole sentence


def _voiced_runs(audio: np.ndarray) -> int:
    """Runs of sounding VAD windows separated by at least one silent one: the words said."""
    windows = audio[: audio.size // WINDOW_SAMPLES * WINDOW_SAMPLES].reshape(-1, WINDOW_SAMPLES)
    loud = np.abs(windows).max(axis=1) > SOUND / 2
    return int(np.sum(loud[1:] & ~loud[:-1]) + (1 if loud.size and loud[0] else 0))


class FakeVad:
    """A window is speech when it sounds: enough for the real segmenter's timing."""

    class _Stream:
        def probability(self, window: np.ndarray) -> float:
            return 1.0 if np.abs(window).max() > SOUND / 2 else 0.0

        def reset(self) -> None:
            pass

    def stream(self) -> _Stream:
        return self._Stream()


class FakeAsr:
    """Hears the first n words of `sentence`, n the words in the audio; records its calls.
    `closes_fragments`: ends what it heard with a full stop, as Whisper sometimes closes a fragment.
    `completes_fragments`: writes the whole sentence once all but its last word were said, as
    Whisper makes a whole question of a fragment; its unclosed reading keeps the words heard."""

    def __init__(self, sentence: str = QUESTION, closes_fragments: bool = False, language: str = "en",
                 sure: float = 0.9, completes_fragments: bool = False) -> None:
        self.sentence = sentence.split()
        self.closes_fragments = closes_fragments
        self.completes_fragments = completes_fragments
        self.language, self.sure = language, sure
        self.calls: list[tuple[int, bool]] = []

    def words(self, audio: np.ndarray) -> str:
        text = " ".join(self.sentence[: _voiced_runs(audio)])
        return text + "." if self.closes_fragments and text and not text.endswith(("?", ".")) else text

    def transcribe(self, audio: np.ndarray, final: bool, unclosed: bool = False) -> Heard:
        self.calls.append((_voiced_runs(audio), final))
        text, reading = self.words(audio), None
        if unclosed and self.completes_fragments and _voiced_runs(audio) == len(self.sentence) - 1:
            text, reading = " ".join(self.sentence), text
        return Heard(text, self.language, -0.2, 0.01, audio.size / RATE, 0.001, final,
                     language_probability=self.sure, unclosed_text=reading)


class FakeTurn:
    """Smart Turn's stand-in: finished when every word of the sentence was said (`misjudges`: always,
    as Smart Turn hears some synthetic voices' fragments)."""

    def __init__(self, asr: FakeAsr, fail: bool = False, misjudges: bool = False) -> None:
        self.asr, self.fail, self.misjudges = asr, fail, misjudges

    def probability(self, audio: np.ndarray) -> float:
        if self.fail:
            raise RuntimeError("turn model broke")
        return 0.9 if self.misjudges or _voiced_runs(audio) >= len(self.asr.sentence) else 0.05


class FakeSentenceEnd:
    """The sentence model's stand-in: the words end a sentence when they are the whole sentence;
    records what it read."""

    def __init__(self, asr: FakeAsr, fail: bool = False) -> None:
        self.asr, self.fail = asr, fail
        self.read: list[str] = []

    def probability(self, text: str) -> float:
        self.read.append(text)
        if self.fail:
            raise RuntimeError("sentence model broke")
        return 0.5 if text.rstrip("?.").split() == " ".join(self.asr.sentence).rstrip("?.").split() else 0.001


class FakeLlm:
    """Answers by naming the question it was asked, in two deltas; records what it reads ahead."""

    def __init__(self) -> None:
        self.asked: list[str] = []
        self.prompts: list[str] = []  # the last user message of each prompt answered
        self.read: list[str] = []  # the last user message of each prompt read ahead

    def prefill(self, messages: list[dict[str, str]], spare_core: Callable[[], bool]) -> None:
        self.read.append(messages[-1]["content"])

    def stream(self, messages: list[dict[str, str]], stop_event: threading.Event, spare_core: bool) -> Iterator[str]:
        self.prompts.append(messages[-1]["content"])
        question = messages[-1]["content"].rsplit("Question: ", 1)[-1]
        self.asked.append(question)
        yield "You asked: "
        if not stop_event.is_set():
            yield question if question.endswith(("?", ".")) else f"{question}."


class FakeTts:
    """0.1 s of tone per call, in chunks that take `chunk_s` of wall time each (long replies can
    then still be speaking when the person barges in)."""

    sample_rate = 16_000

    def __init__(self) -> None:
        self.chunk_s = 0.0
        self.chunks = 1
        self.languages = frozenset({"en"})
        self.spoken_in: list[str | None] = []
        self.synthesised: list[str] = []  # each text whose every chunk has been taken

    def synthesize(self, text: str, language: str | None = None) -> Iterator[AudioChunk]:
        self.spoken_in.append(language)
        for _ in range(self.chunks):
            time.sleep(self.chunk_s)
            yield AudioChunk(np.full(1600, 1000, dtype=np.int16), self.sample_rate, text)
        self.synthesised.append(text)


@dataclass
class FakeChannel:
    audio: list[tuple[bytes, int]] = field(default_factory=list)

    def send(self, message: object) -> None:
        raise AssertionError("messages go through the host")

    def send_audio(self, pcm16: bytes, sample_rate: int) -> bool:
        self.audio.append((pcm16, sample_rate))
        return True

    def is_open(self) -> bool:
        return True

    async def close(self) -> None:
        pass


class FakeEcho:
    def __init__(self) -> None:
        self.is_unsure = False
        self.echo_found = False
        self.no_echo = False

    def unsure(self) -> bool:
        return self.is_unsure

    def only_echo(self) -> bool:
        return False


class Host:
    """The conversation's `ConversationHost`: records what it sends and owns the tasks it spawns."""

    def __init__(self, ctx: ServerContext) -> None:
        self.id = "s1"
        self.ctx = ctx
        self.prefs = Preferences()
        self.channel = FakeChannel()
        self.reply_track = None
        self.echo = FakeEcho()
        self.sent: list[object] = []
        self.tasks: list[asyncio.Task[Any]] = []

    def send(self, message: object) -> None:
        self.sent.append(message)

    def spawn(self, coro: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self.tasks.append(task)
        return task

    def measured_facts(self) -> tuple[list[str], str | None, list[str]]:
        return ["Reps this set: 5"], "squat", []

    def fact_sheet(self) -> dict[str, Any]:
        return {}

    def of(self, kind: type) -> list[Any]:
        return [m for m in self.sent if isinstance(m, kind)]

    def states(self) -> list[tuple[str, str]]:
        return [(m.listener, m.reply) for m in self.of(VoiceState)]


class Rig:
    """A conversation on the fakes, with a microphone pushed in VAD windows and a scripted clock."""

    def __init__(self, tmp: Path, smart_turn: bool = True, turn_fails: bool = False, asr: FakeAsr | None = None,
                 turn_misjudges: bool = False, sentence_model: bool = False, sentence_fails: bool = False) -> None:
        settings = load_settings(None, data_dir=tmp, load_models=False)
        self.hub = ModelHub(settings, HealthRegistry())
        self.asr = asr or FakeAsr()
        self.llm = FakeLlm()
        self.tts = FakeTts()
        self.hub.vad, self.hub.asr, self.hub.llm, self.hub.tts = FakeVad(), self.asr, self.llm, self.tts
        self.hub.turn = FakeTurn(self.asr, fail=turn_fails, misjudges=turn_misjudges) if smart_turn else None
        self.sentence = FakeSentenceEnd(self.asr, fail=sentence_fails)
        self.hub.sentence_end = self.sentence if sentence_model else None
        self.ctx = ServerContext(settings, ServerMetrics(), SqliteRecordStore(tmp / "store.db"), self.hub)
        self.host = Host(self.ctx)
        self.now = 1000.0
        self.conversation = Conversation(self.host, clock=lambda: self.now)

    async def push(self, samples: np.ndarray) -> None:
        """Microphone audio, one VAD window at a time; the clock follows, the fakes get to run."""
        for i in range(0, samples.size, WINDOW_SAMPLES):
            window = samples[i:i + WINDOW_SAMPLES]
            self.now += window.size / RATE
            self.conversation.push_audio(window)
            await asyncio.sleep(0.002)

    async def say(self, words: int) -> None:
        for _ in range(words):
            await self.push(np.full(WORD_WINDOWS * WINDOW_SAMPLES, SOUND, dtype=np.float32))
            await self.push(np.zeros(WINDOW_SAMPLES, dtype=np.float32))

    async def silence(self, seconds: float) -> None:
        await self.push(np.zeros(round(seconds * RATE / WINDOW_SAMPLES) * WINDOW_SAMPLES, dtype=np.float32))

    async def until(self, done: Callable[[], bool], timeout: float = 3.0) -> None:
        end = time.monotonic() + timeout
        while not done():
            assert time.monotonic() < end, "timed out"
            await asyncio.sleep(0.005)

    def answers(self) -> list[str]:
        """The text of each finished, uninterrupted answer."""
        texts: dict[int, str] = {}
        done: list[str] = []
        for m in self.host.of(Reply):
            if m.kind != "answer":
                continue
            texts[m.turn] = texts.get(m.turn, "") + m.delta
            if m.done and not m.interrupted:
                done.append(texts[m.turn])
        return done

    async def close(self) -> None:
        self.conversation.close()
        for task in self.host.tasks:
            task.cancel()
        await asyncio.gather(*self.host.tasks, return_exceptions=True)
        self.ctx.store.close()
        self.hub.close()


@pytest.fixture
async def rig(tmp_path: Path) -> Iterator[Rig]:
    rig = Rig(tmp_path)
    yield rig
    await rig.close()


def _compact(states: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [s for i, s in enumerate(states) if i == 0 or s != states[i - 1]]


async def test_a_whole_question_is_heard_judged_finished_and_answered_in_order(rig: Rig) -> None:
    await rig.say(6)
    await rig.silence(0.3)  # Smart Turn and the words call it finished: no need for the VAD's 0.5 s
    await rig.until(lambda: rig.answers() != [])
    await rig.until(lambda: rig.host.states()[-1] == ("idle", "idle"))
    assert rig.answers() == [f"You asked: {QUESTION}"]
    finals = [t.text for t in rig.host.of(Transcript) if t.final]
    partials = [t.text for t in rig.host.of(Transcript) if not t.final]
    assert finals == [QUESTION]
    assert partials and all(QUESTION.startswith(p) for p in partials)
    assert rig.host.states() == [("speaking", "idle"), ("paused", "idle"), ("idle", "thinking"),
                                 ("idle", "speaking"), ("idle", "idle")]
    # The pause partial heard every word: it became the final transcript, Whisper did not run again.
    assert all(not final for _, final in rig.asr.calls)
    assert rig.host.channel.audio, "the reply was spoken"


async def test_a_breath_mid_question_drops_the_speculative_answer_unheard(rig: Rig) -> None:
    await rig.say(5)  # "how many reps did i"
    await rig.silence(0.9)  # longer than the VAD's 0.5 s, shorter than the 1.8 s cap
    assert rig.host.of(Reply) == [] and rig.host.channel.audio == []
    assert ("paused", "idle") in rig.host.states()
    assert [t.text for t in rig.host.of(Transcript) if t.final] == []
    await rig.say(1)  # "do"
    await rig.silence(0.3)
    await rig.until(lambda: rig.answers() != [])
    assert rig.answers() == [f"You asked: {QUESTION}"]
    assert rig.llm.asked[-1] == QUESTION
    assert "how many reps did i." not in " ".join(rig.answers())
    assert rig.ctx.metrics.speculative_turns.labels("abandoned")._value.get() == 1  # noqa: SLF001


async def test_silence_after_half_a_sentence_ends_the_turn_only_at_the_cap(rig: Rig) -> None:
    await rig.say(5)
    await rig.silence(1.5)
    assert rig.answers() == []  # 1.5 s: still their turn
    await rig.silence(0.5)  # past the 1.8 s cap
    await rig.until(lambda: rig.answers() != [])
    assert rig.answers() == ["You asked: how many reps did i."]


async def test_without_smart_turn_the_vads_silence_ends_the_turn(tmp_path: Path) -> None:
    rig = Rig(tmp_path, smart_turn=False)
    try:
        await rig.say(5)
        await rig.silence(0.4)
        assert rig.answers() == []
        await rig.silence(0.3)  # past the VAD's 0.5 s
        await rig.until(lambda: rig.answers() != [])
        assert rig.answers() == ["You asked: how many reps did i."]
    finally:
        await rig.close()


async def test_a_turn_model_that_throws_leaves_the_words_to_decide(tmp_path: Path) -> None:
    rig = Rig(tmp_path, turn_fails=True)
    try:
        await rig.say(6)
        await rig.silence(0.5)  # finished words, no model: they wait `words_after_ms` (0.7 s)
        assert rig.answers() == []
        await rig.silence(0.4)
        await rig.until(lambda: rig.answers() != [])
        assert rig.answers() == [f"You asked: {QUESTION}"]
        assert rig.ctx.metrics.model_errors.labels("turn")._value.get() == 1  # noqa: SLF001
    finally:
        await rig.close()


ELBOWS = "how do i keep my elbows in?"


@pytest.mark.parametrize("sentence_model", [True, False])
async def test_a_fragment_heard_as_finished_waits_while_the_sentence_model_reads_it_unfinished(
        tmp_path: Path, sentence_model: bool) -> None:
    """Whisper closed "how do i keep my elbows." and Smart Turn misjudged the voice: without the
    sentence model both say finished and the fragment is answered at once."""
    rig = Rig(tmp_path, asr=FakeAsr(ELBOWS, closes_fragments=True), turn_misjudges=True,
              sentence_model=sentence_model)
    try:
        await rig.say(6)
        await rig.silence(0.9)  # a breath mid-question, well under the 1.8 s cap
        if not sentence_model:
            await rig.until(lambda: rig.answers() != [])
            assert rig.answers() == ["You asked: how do i keep my elbows."]
            return
        assert rig.answers() == [] and rig.host.channel.audio == []
        # While they spoke, partial transcripts were read ahead; the pause read the words it heard.
        assert "how do i keep my elbows." in rig.sentence.read
        assert len(rig.sentence.read) >= 2, rig.sentence.read
        await rig.say(1)
        await rig.silence(0.3)
        await rig.until(lambda: rig.answers() != [])
        assert rig.answers() == [f"You asked: {ELBOWS}"]
    finally:
        await rig.close()


async def test_a_fragment_whisper_completes_waits_while_its_unclosed_reading_stops_short(tmp_path: Path) -> None:
    """"how many reps did i | do?": Whisper wrote the whole question at the pause (in the benchmark
    it drops the dangling word instead, "What should I do?" for "What should I do to |"); read
    again without a closing mark it kept only the words said, and the sentence model reads that."""
    rig = Rig(tmp_path, asr=FakeAsr(completes_fragments=True), turn_misjudges=True, sentence_model=True)
    try:
        await rig.say(5)
        await rig.silence(0.9)  # mid-question, under the 1.8 s cap
        assert rig.answers() == [] and rig.host.channel.audio == []
        assert "how many reps did i" in rig.sentence.read
        await rig.say(1)
        await rig.silence(0.3)
        await rig.until(lambda: rig.answers() != [])
        assert rig.answers() == [f"You asked: {QUESTION}"]
    finally:
        await rig.close()


async def test_a_sentence_model_that_throws_leaves_smart_turn_and_the_words_to_decide(tmp_path: Path) -> None:
    rig = Rig(tmp_path, sentence_model=True, sentence_fails=True)
    try:
        await rig.say(6)
        await rig.silence(0.3)  # both finished: at once, as without the model
        await rig.until(lambda: rig.answers() != [])
        assert rig.answers() == [f"You asked: {QUESTION}"]
        assert rig.ctx.metrics.model_errors.labels("sentence_end")._value.get() >= 1  # noqa: SLF001
    finally:
        await rig.close()


async def test_speaking_over_the_reply_stops_it_and_starts_their_turn(rig: Rig) -> None:
    rig.tts.chunk_s, rig.tts.chunks = 0.05, 40  # 2 s of synthesis: still speaking when they talk
    await rig.say(6)
    await rig.silence(0.3)
    await rig.until(lambda: ("idle", "speaking") in rig.host.states())
    audio_before = len(rig.host.channel.audio)
    await rig.say(2)
    interrupted = [m for m in rig.host.of(Reply) if m.interrupted]
    assert len(interrupted) == 1 and interrupted[0].done
    assert rig.host.states()[-1] == ("speaking", "idle")
    assert rig.conversation.active is None
    await asyncio.sleep(0.2)
    assert len(rig.host.channel.audio) <= audio_before + 2  # at most the chunk under way when it stopped
    assert rig.conversation.history[-1].interrupted
    # Its latency was measured although it was cut off while still being synthesised.
    reported = [m for m in rig.host.of(TurnMetrics) if m.turn == interrupted[0].turn]
    assert len(reported) == 1 and {"tts_first_audio", "first_reply_frame"} <= set(reported[0].stages)


async def _answer_queued_in_a_track(rig: Rig) -> ReplyAudioTrack:
    """An answer of 4 s a sentence, synthesised at once into a track nobody takes frames from: still
    being heard. Returned once all of it is queued: the text is done before its last sentence is
    synthesised, and a test comparing queued audio before and after must not see it grow."""
    track = ReplyAudioTrack()
    rig.host.reply_track = track
    rig.tts.chunks = 40
    await rig.say(6)
    await rig.silence(0.6)

    def all_queued() -> bool:
        said = rig.answers()
        return bool(said) and "".join(rig.tts.synthesised).replace(" ", "") == said[-1].replace(" ", "")

    await rig.until(all_queued)
    return track


async def test_speaking_over_the_tail_of_a_synthesised_reply_still_stops_it(rig: Rig) -> None:
    """A long answer is synthesised well before it has been played (at once here): until its audio
    has left the track the coach is still talking, and a person speaking over it barges in."""
    track = await _answer_queued_in_a_track(rig)
    assert rig.conversation.active is not None  # written, synthesised, not yet heard
    await rig.say(2)
    interrupted = [m for m in rig.host.of(Reply) if m.interrupted]
    assert len(interrupted) == 1 and track.pending_seconds == 0
    assert rig.conversation.history[-1].interrupted
    # Its timings are reported once cut off, without a first frame: none of it was heard.
    reported = [m for m in rig.host.of(TurnMetrics) if m.turn == interrupted[0].turn]
    assert len(reported) == 1 and "first_reply_frame" not in reported[0].stages
    assert "final_transcript" in reported[0].stages


async def _sound(rig: Rig, windows: int) -> None:
    await rig.push(np.full(windows * WINDOW_SAMPLES, SOUND, dtype=np.float32))


@pytest.mark.parametrize("echo_found", [True, False])
async def test_a_short_sound_over_the_echo_pauses_the_reply_which_then_goes_on(rig: Rig, echo_found: bool) -> None:
    """On a speakerphone a sound too short yet to be a turn pauses the coach's voice; when it ends
    (a cough), the reply goes on with nothing lost. Where no echo comes back, nothing pauses."""
    track = await _answer_queued_in_a_track(rig)
    rig.host.echo.echo_found = echo_found
    pending = track.pending_seconds
    await _sound(rig, 3)  # 96 ms: voiced, under the 250 ms that start a turn
    assert track.held == echo_found
    await rig.silence(0.6)
    assert not track.held and track.pending_seconds == pending
    assert not [m for m in rig.host.of(Reply) if m.interrupted] and rig.conversation.active is not None


async def test_words_after_the_pause_stop_the_reply(rig: Rig) -> None:
    track = await _answer_queued_in_a_track(rig)
    rig.host.echo.echo_found = True
    await _sound(rig, 3)
    assert track.held
    await rig.say(2)
    assert [m for m in rig.host.of(Reply) if m.interrupted] and track.pending_seconds == 0 and not track.held


async def test_a_pause_of_the_reply_lasts_at_most_its_cap(rig: Rig) -> None:
    track = await _answer_queued_in_a_track(rig)
    rig.host.echo.echo_found = True
    rig.conversation.options = rig.conversation.options.model_copy(update={"hold_on_maybe_speech_s": 0.05})
    await _sound(rig, 3)
    assert track.held
    await rig.until(lambda: not track.held, timeout=1.0)  # the sound is still undecided: the cap ended it


async def test_the_coachs_own_voice_starts_no_turn(rig: Rig) -> None:
    """Heard while unsure, then an echo found: it was the coach's voice coming back."""
    rig.host.echo.is_unsure = True
    await rig.say(6)
    await rig.silence(0.6)
    assert rig.host.of(Transcript) == [] and rig.host.states() == [] and rig.asr.calls == []
    rig.host.echo.is_unsure, rig.host.echo.echo_found = False, True
    await rig.say(6)
    await rig.silence(0.3)
    await rig.until(lambda: rig.answers() != [])
    assert rig.answers() == [f"You asked: {QUESTION}"]


async def test_the_coachs_own_words_held_while_unsure_are_dropped_when_no_echo_was_measured(rig: Rig) -> None:
    """The coach stopped without its echo being measured (a cue too short to match): what was held
    is heard, and a turn of the coach's own recent words in it is taken for its echo."""
    rig.host.echo.is_unsure = True
    rig.conversation.own_words.said("You asked how many reps did.")
    rig.asr.sentence = "you asked how many reps did.".split()
    await rig.say(6)
    await rig.silence(0.2)
    rig.host.echo.is_unsure = False
    await rig.silence(0.6)
    await rig.until(lambda: rig.asr.calls != [] and rig.host.states()[-1] == ("idle", "idle"))
    await asyncio.sleep(0.05)
    assert rig.answers() == [] and [m.text for m in rig.host.of(Transcript) if m.final] == []


async def test_a_question_held_while_the_coach_may_be_heard_is_answered_once_no_echo_comes_back(rig: Rig) -> None:
    """A browser that cancels its own echo: the person asks while the coach's first cue plays, before
    the echo canceller knows that nothing of the coach comes back. What was held is then heard."""
    rig.host.echo.is_unsure = True
    await rig.say(6)
    await rig.silence(0.3)
    assert rig.host.of(Transcript) == [] and rig.asr.calls == []
    rig.host.echo.is_unsure, rig.host.echo.no_echo = False, True
    await rig.silence(0.4)
    await rig.until(lambda: rig.answers() != [])
    assert rig.answers() == [f"You asked: {QUESTION}"]


@pytest.mark.parametrize("echo_found", [True, False])
async def test_the_coachs_own_words_heard_back_are_answered_only_without_an_echo(rig: Rig, echo_found: bool) -> None:
    """Words the echo canceller let through, transcribed, are dropped where the microphone is known
    to carry the coach's voice back; where it is not, the person said them and gets an answer."""
    await rig.say(6)
    await rig.silence(0.3)
    await rig.until(lambda: rig.answers() != [])
    rig.host.echo.echo_found = echo_found
    rig.asr.sentence = "you asked how many reps did.".split()  # the end of the answer, come back
    await rig.say(6)
    await rig.silence(0.6)
    if echo_found:
        await rig.until(lambda: rig.host.states()[-1] == ("idle", "idle"))
        await asyncio.sleep(0.05)
        assert [m.text for m in rig.host.of(Transcript) if m.final] == [QUESTION]
        assert len(rig.answers()) == 1
    else:
        await rig.until(lambda: len(rig.answers()) == 2)
        assert rig.answers()[1] == "You asked: you asked how many reps did."


async def test_a_typed_question_shows_thinking_then_speaking_then_idle(rig: Rig) -> None:
    rig.host.prefs.voice = False
    await rig.conversation.answer_text("what should I fix", want_audio=False)
    assert _compact(rig.host.states()) == [("idle", "thinking"), ("idle", "speaking"), ("idle", "idle")]
    assert rig.answers() == ["You asked: what should I fix."]
    assert rig.host.channel.audio == []


async def test_new_facts_are_read_ahead_only_in_the_servers_one_conversation(rig: Rig) -> None:
    rig.conversation.refresh_context()  # a rep was counted
    await rig.until(lambda: len(rig.llm.read) == 1)
    other = rig.hub.cpu.claim()  # a second session: its reads and ours would evict each other's
    rig.conversation.refresh_context()
    await asyncio.gather(*rig.host.tasks)
    assert len(rig.llm.read) == 1
    other.release()
    rig.conversation.refresh_context()
    await rig.until(lambda: len(rig.llm.read) == 2)


async def test_a_set_of_one_or_two_reps_ends_without_a_spoken_summary(rig: Rig) -> None:
    def summaries() -> list[Reply]:
        return [m for m in rig.host.of(Reply) if m.kind == "summary" and m.done]

    await rig.conversation.summarise_set(2, None)  # a stray movement taken for two reps
    assert summaries() == [] and rig.llm.asked == []
    await rig.conversation.summarise_set(3, None)
    assert len(summaries()) == 1 and len(rig.llm.asked) == 1
    await rig.conversation.summarise_set(0, 20.0)  # a plank held 20 s
    assert len(summaries()) == 2


async def test_while_they_speak_the_llm_reads_the_facts_then_the_words_so_far(rig: Rig) -> None:
    await rig.say(6)
    await rig.until(lambda: any("Question: how many reps did" in r for r in rig.llm.read))
    assert "Reps this set: 5" in rig.llm.read[0] and "Question:" not in rig.llm.read[0]  # at speech start
    words = [r.rsplit("Question: ", 1)[-1] for r in rig.llm.read if "Question: " in r]
    assert all(QUESTION.startswith(w) for w in words) and len(words[0].split()) >= 3  # 3 words to retrieve
    await rig.silence(0.3)
    await rig.until(lambda: rig.answers() != [])


@pytest.mark.parametrize(("voice_speaks", "voice_on", "answered_in", "told"), [
    (frozenset({"en", "fr"}), True, "French", False),  # XTTS-v2: heard in French, answered and spoken in it
    (frozenset({"en"}), True, "English", True),  # a Piper voice: answered in English, and the person told why
    (frozenset({"en"}), False, "French", False),  # text only: any language can be read
])
async def test_a_question_heard_in_french_is_answered_in_french_where_it_can_be(
        tmp_path: Path, voice_speaks: frozenset[str], voice_on: bool, answered_in: str | None, told: bool) -> None:
    rig = Rig(tmp_path, asr=FakeAsr(language="fr"))
    rig.tts.languages = voice_speaks
    rig.host.prefs.voice = voice_on
    try:
        for _ in range(2):
            await rig.say(6)
            await rig.silence(0.3)
            await rig.until(lambda: rig.host.states() and rig.host.states()[-1] == ("idle", "idle"))
        assert len(rig.llm.prompts) == 2  # not answered from the facts: those answers are English sentences
        for prompt in rig.llm.prompts:
            assert prompt.endswith(f"Answer in {answered_in}.")
        notes = [m.message for m in rig.host.of(Status) if m.state == "language"]  # told once, not every turn
        assert notes == (["I heard French, but this voice speaks English only, so I answer in English."] if told else [])
        if voice_on:
            assert set(rig.tts.spoken_in) == {"fr" if answered_in == "French" else "en"}
    finally:
        await rig.close()


async def test_a_question_heard_in_english_gets_no_language_instruction(rig: Rig) -> None:
    await rig.say(6)
    await rig.silence(0.3)
    await rig.until(lambda: rig.answers() != [])
    assert "Answer in" not in rig.llm.prompts[-1] and set(rig.tts.spoken_in) == {None}


async def test_an_unsure_detection_keeps_the_language_the_person_has_been_speaking(tmp_path: Path) -> None:
    rig = Rig(tmp_path, asr=FakeAsr(language="it"))
    rig.tts.languages = frozenset({"en", "it"})
    try:
        for turn, (language, sure) in enumerate((("es", 0.3), ("it", 0.84), ("es", 0.23))):  # the last one clipped
            rig.asr.language, rig.asr.sure = language, sure
            await rig.say(6)
            await rig.silence(0.3)
            await rig.until(lambda n=turn + 1: len(rig.answers()) == n and rig.host.states()[-1] == ("idle", "idle"))
        assert ["Answer in" in p for p in rig.llm.prompts] == [False, True, True]
        assert rig.llm.prompts[2].endswith("Answer in Italian.")
    finally:
        await rig.close()
