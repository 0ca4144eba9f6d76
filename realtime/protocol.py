"""The message protocol spoken on the WebRTC data channel and on the websocket (version 1).

Every message is one JSON object with `v` (protocol version) and `type`. The same models serve
both transports, so a websocket text client and the browser demo see identical messages.
`docs/PROTOCOL.md` lists them with examples; `python -m realtime.protocol` prints the JSON schema.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from coaching.events import Event

PROTOCOL_VERSION = 1

CueVerbosity = Literal["off", "low", "normal", "high"]


class _Message(BaseModel):
    model_config = ConfigDict(extra="forbid")
    v: Literal[1] = PROTOCOL_VERSION


# ---------------------------------------------------------------- client -> server


class Chat(_Message):
    """Text from the person: a question or a remark, answered like speech."""

    type: Literal["chat"] = "chat"
    text: str = Field(min_length=1, max_length=2000)
    audio: bool = Field(False, description="Websocket only: also stream the spoken reply as binary PCM16.")


class ChooseExercise(_Message):
    """Pick the exercise, or `auto` to let the recogniser decide."""

    type: Literal["exercise"] = "exercise"
    exercise: str = Field(min_length=1, max_length=40)


class UpdateSettings(_Message):
    """Per-session preferences; fields left out stay as they are."""

    type: Literal["settings"] = "settings"
    voice: bool | None = None
    cue_verbosity: CueVerbosity | None = None


class Ping(_Message):
    type: Literal["ping"] = "ping"
    t: float | None = None


class Heard(_Message):
    """The client's own measure of a turn: from the end of the person's speech (its microphone) to
    the first audible sample of the coach's answer (its speaker), what the person lived through."""

    type: Literal["heard"] = "heard"
    turn: int = Field(ge=0)
    voice_to_voice_ms: float = Field(ge=0, le=60_000)


ClientMessage = Annotated[Chat | ChooseExercise | UpdateSettings | Ping | Heard, Field(discriminator="type")]
_client_adapter: TypeAdapter[ClientMessage] = TypeAdapter(ClientMessage)

# ---------------------------------------------------------------- server -> client


class Hello(_Message):
    """First message on a fresh channel: who we are and what can be done."""

    type: Literal["hello"] = "hello"
    session_id: str
    exercises: list[str] = []
    models: dict[str, str] = Field(default_factory=dict, description="family -> ready/loading/unavailable")


class PoseOverlay(_Message):
    """The coached person's keypoints for one processed frame, normalised to 0..1 of the frame."""

    type: Literal["pose"] = "pose"
    frame: int
    width: int
    height: int
    keypoints: list[tuple[float, float, float]] | None = Field(
        None, description="17 COCO joints (x, y, confidence), None when nobody is tracked."
    )
    subject: int | None = None
    people: int = 0
    latency_ms: float | None = Field(None, description="Frame arrival to this message.")


class CoachEvent(_Message):
    """An exercise, phase, rep, fault, hold or guidance event from the analysis."""

    type: Literal["event"] = "event"
    event: Event


class Transcript(_Message):
    """What the server heard: partials while the person speaks, one final at end of turn."""

    type: Literal["transcript"] = "transcript"
    turn: int
    text: str
    final: bool


class Citation(BaseModel):
    id: str
    title: str


class Reply(_Message):
    """The coach's reply, streamed as text deltas; the last one has `done`."""

    type: Literal["reply"] = "reply"
    turn: int
    delta: str = ""
    done: bool = False
    interrupted: bool = False
    kind: Literal["answer", "cue", "summary"] = "answer"
    citations: list[Citation] = []


class Status(_Message):
    """Connection and model state changes worth showing to the person."""

    type: Literal["status"] = "status"
    state: str
    message: str = ""
    models: dict[str, str] | None = None


class ErrorMessage(_Message):
    """A problem with something the client sent, or a failure it should know about."""

    type: Literal["error"] = "error"
    code: str
    message: str


class TurnMetrics(_Message):
    """Per-turn latency stamps in milliseconds from the end of the person's speech."""

    type: Literal["metrics"] = "metrics"
    turn: int
    stages: dict[str, float]


class VoiceState(_Message):
    """The turn-taking state, sent whenever it changes: what the coach hears of the person and what
    its reply is doing. A speculative reply (started at a pause, before the turn is confirmed) is
    not shown: it may be dropped unheard."""

    type: Literal["voice_state"] = "voice_state"
    listener: Literal["idle", "speaking", "paused"] = Field(
        description="idle: nobody speaking; speaking: the person is; paused: a pause within their turn.")
    reply: Literal["idle", "thinking", "speaking"] = Field(
        description="thinking: the person's turn is over and the answer is being prepared; speaking: its "
        "audio (or, without voice, its text) is on its way.")
    turn: int


class Pong(_Message):
    type: Literal["pong"] = "pong"
    t: float | None = None


ServerMessage = Annotated[
    Hello | PoseOverlay | CoachEvent | Transcript | Reply | Status | ErrorMessage | TurnMetrics | VoiceState | Pong,
    Field(discriminator="type"),
]


class ProtocolError(ValueError):
    """A client message that cannot be accepted; `code` goes back in an ErrorMessage."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def parse_client_message(raw: str | bytes, max_bytes: int) -> ClientMessage:
    """Validate one client message, raising ProtocolError with a message a person can act on."""
    if len(raw) > max_bytes:
        raise ProtocolError("too_large", f"message of {len(raw)} bytes exceeds the {max_bytes}-byte limit")
    try:
        data = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ProtocolError("bad_json", f"message is not valid JSON: {exc}") from None
    except RecursionError:
        raise ProtocolError("bad_json", "message nests too deeply to be a message") from None
    if not isinstance(data, dict):
        raise ProtocolError("bad_message", "a message must be a JSON object")
    kind = data.get("type")
    if not isinstance(kind, str) or kind not in {"chat", "exercise", "settings", "ping", "heard"}:
        raise ProtocolError("unknown_type", f"unknown message type {kind!r}")
    if data.setdefault("v", PROTOCOL_VERSION) != PROTOCOL_VERSION:
        raise ProtocolError("bad_version", f"protocol version {data['v']!r} is not supported (use 1)")
    try:
        return _client_adapter.validate_python(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"][1:]) or "message"
        raise ProtocolError("invalid", f"{kind}: {where}: {first['msg']}") from None


def encode(message: _Message) -> str:
    """Compact JSON for the wire."""
    return message.model_dump_json(exclude_none=True)


def json_schema() -> dict[str, Any]:
    """The protocol's JSON schema, both directions."""
    return {
        "version": PROTOCOL_VERSION,
        "client_to_server": TypeAdapter(ClientMessage).json_schema(),
        "server_to_client": TypeAdapter(ServerMessage).json_schema(),
    }


if __name__ == "__main__":
    print(json.dumps(json_schema(), indent=2))
