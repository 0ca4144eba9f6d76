"""The message protocol: what is accepted, and the error each kind of bad message gets."""

from __future__ import annotations

import json

import pytest

from realtime.protocol import (
    Chat,
    ChooseExercise,
    PoseOverlay,
    ProtocolError,
    Reply,
    UpdateSettings,
    encode,
    json_schema,
    parse_client_message,
)

LIMIT = 16 * 1024


@pytest.mark.parametrize(("raw", "kind"), [
    ('{"type": "chat", "text": "how deep was that?"}', Chat),
    ('{"v": 1, "type": "exercise", "exercise": "squat"}', ChooseExercise),
    ('{"type": "settings", "voice": false}', UpdateSettings),
    (b'{"type": "settings", "cue_verbosity": "low"}', UpdateSettings),
])
def test_valid_client_messages(raw: str | bytes, kind: type) -> None:
    assert isinstance(parse_client_message(raw, LIMIT), kind)


@pytest.mark.parametrize(("raw", "code"), [
    ("not json", "bad_json"),
    (b"\xff\xfe", "bad_json"),
    ("[1, 2]", "bad_message"),
    ('{"type": "dance"}', "unknown_type"),
    ('{"text": "no type"}', "unknown_type"),
    ('{"v": 2, "type": "ping"}', "bad_version"),
    ('{"type": "chat", "text": ""}', "invalid"),
    ('{"type": "chat"}', "invalid"),
    ('{"type": "settings", "cue_verbosity": "shouty"}', "invalid"),
    ('{"type": "ping", "extra": 1}', "invalid"),
])
def test_bad_messages_get_a_code_and_a_sentence(raw: str, code: str) -> None:
    with pytest.raises(ProtocolError) as err:
        parse_client_message(raw, LIMIT)
    assert err.value.code == code
    assert len(str(err.value)) > 10


def test_oversize_message_is_refused_before_parsing() -> None:
    raw = json.dumps({"type": "chat", "text": "x" * 1990}) + " " * LIMIT
    with pytest.raises(ProtocolError) as err:
        parse_client_message(raw, LIMIT)
    assert err.value.code == "too_large"


def test_server_messages_encode_compactly_with_version() -> None:
    pose = json.loads(encode(PoseOverlay(frame=3, width=640, height=480,
                                         keypoints=[(0.5, 0.25, 0.9)] * 17, people=1)))
    assert pose["v"] == 1 and pose["type"] == "pose" and len(pose["keypoints"]) == 17
    assert "subject" not in pose  # None fields are left out of the wire format
    reply = json.loads(encode(Reply(turn=1, delta="Sit ", citations=[])))
    assert reply == {"v": 1, "type": "reply", "turn": 1, "delta": "Sit ", "done": False,
                     "interrupted": False, "kind": "answer", "citations": []}


def test_schema_lists_both_directions() -> None:
    schema = json_schema()
    text = json.dumps(schema)
    for kind in ("chat", "exercise", "settings", "ping", "hello", "pose", "event", "transcript", "reply",
                 "status", "error", "metrics", "voice_state", "pong"):
        assert f'"{kind}"' in text, kind
