"""Reply audio sinks per transport (fast tier): a speculative turn's audio waits behind its gate and
is sent in order once confirmed; the first-sent callback fires once, on the event loop."""

from __future__ import annotations

import asyncio

import numpy as np

from realtime.voice.gate import Gate
from realtime.voice.sinks import WebSocketAudioSink


async def test_websocket_audio_waits_for_the_turn_then_goes_out_in_order() -> None:
    sent: list[tuple[bytes, int]] = []
    firsts: list[bool] = []
    gate = Gate(confirmed=False)
    sink = WebSocketAudioSink(lambda data, rate: sent.append((data, rate)), 22_050, asyncio.get_running_loop(),
                              gate, lambda: firsts.append(True))
    chunks = [np.full(4, i, dtype=np.int16) for i in range(3)]
    for i, pcm in enumerate(chunks):
        await asyncio.to_thread(sink.write, pcm, i == 0)  # the TTS worker writes
    await asyncio.sleep(0.01)
    assert sent == [] and firsts == []
    gate.confirm()
    await asyncio.sleep(0.01)
    assert [np.frombuffer(data, "<i2")[0] for data, _ in sent] == [0, 1, 2]
    assert {rate for _, rate in sent} == {22_050} and firsts == [True]
