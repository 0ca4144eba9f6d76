"""Media plumbing in isolation: the latest-frame slot, the microphone resampler, the reply track."""

from __future__ import annotations

import asyncio
import time

import av
import numpy as np
import pytest

from realtime.media.audio_in import MicrophoneResampler
from realtime.media.frame_slot import LatestFrameSlot
from realtime.media.reply_track import FRAME_SAMPLES, ReplyAudioTrack


async def test_slot_keeps_only_the_newest_and_counts_drops() -> None:
    slot: LatestFrameSlot[int] = LatestFrameSlot()
    for i in range(5):
        slot.put(i, time.monotonic())
    got = await slot.get()
    assert got is not None and got.item == 4 and got.seq == 5
    assert slot.dropped == 4
    waiter = asyncio.ensure_future(slot.get())
    await asyncio.sleep(0.01)
    assert not waiter.done()  # waits for something newer
    slot.put(9, time.monotonic())
    assert (await waiter).item == 9
    slot.close()
    assert await slot.get() is None


def audio_frame(samples: np.ndarray, rate: int, layout: str, fmt: str = "s16") -> av.AudioFrame:
    frame = av.AudioFrame.from_ndarray(samples, format=fmt, layout=layout)
    frame.sample_rate = rate
    return frame


@pytest.mark.parametrize(("rate", "layout"), [(8000, "mono"), (16000, "mono"), (22050, "stereo"),
                                              (44100, "stereo"), (48000, "stereo"), (48000, "mono")])
def test_resampler_accepts_any_rate_and_layout(rate: int, layout: str) -> None:
    channels = 2 if layout == "stereo" else 1
    resampler = MicrophoneResampler()
    total = 0
    t = np.arange(rate // 50) / rate
    out_chunks = []
    for i in range(50):  # one second in 20 ms frames
        tone = (8000 * np.sin(2 * np.pi * 440 * (t + i / 50))).astype(np.int16)
        interleaved = np.repeat(tone, channels).reshape(1, -1)
        out = resampler.convert(audio_frame(interleaved, rate, layout))
        assert out.dtype == np.float32
        out_chunks.append(out)
        total += len(out)
    assert abs(total - 16000) < 400  # one second at 16 kHz, less the filter's delay
    joined = np.concatenate(out_chunks)
    # the tone survives at its level (8000/32768 = 0.24; libav downmixes stereo as 0.707 * (L + R))
    assert 0.2 < np.abs(joined[2000:]).max() < (0.36 if channels == 2 else 0.26)


def test_resampler_handles_planar_float_input_and_rate_changes() -> None:
    resampler = MicrophoneResampler()
    planar = np.zeros((2, 480), np.float32)
    assert len(resampler.convert(audio_frame(planar, 24000, "stereo", "fltp"))) >= 0
    out = resampler.convert(audio_frame(np.zeros((1, 320), np.int16), 16000, "mono"))
    assert out.dtype == np.float32


async def test_reply_track_paces_frames_plays_then_goes_silent() -> None:
    track = ReplyAudioTrack()
    started: list[float] = []
    speech = np.full(FRAME_SAMPLES * 3 + 100, 1000, np.int16)
    track.enqueue(speech, on_first_sent=lambda: started.append(time.monotonic()))
    t0 = time.monotonic()
    frames = [await track.recv() for _ in range(10)]
    elapsed = time.monotonic() - t0
    assert 0.15 < elapsed < 0.35  # 9 paced intervals of 20 ms
    assert len(started) == 1
    samples = [f.to_ndarray().reshape(-1) for f in frames]
    assert all(len(s) == FRAME_SAMPLES for s in samples)
    assert (samples[0] == 1000).all() and (samples[3][:100] == 1000).all() and (samples[3][100:] == 0).all()
    assert not samples[5].any()
    assert frames[1].pts - frames[0].pts == FRAME_SAMPLES and frames[0].sample_rate == 48000


async def test_reply_track_skips_the_time_of_a_stall_instead_of_sending_a_burst() -> None:
    """After the event loop stalls, the next frames go out paced, their timestamps jumped by the
    stall, and the queued speech goes on where it stopped."""
    track = ReplyAudioTrack()
    track.enqueue(np.arange(FRAME_SAMPLES * 4, dtype=np.int16))
    first = await track.recv()
    time.sleep(0.5)  # a stall: nothing runs on the loop
    after = [await track.recv()]
    t0 = time.monotonic()
    after += [await track.recv() for _ in range(3)]
    assert time.monotonic() - t0 > 0.04  # paced, not three stale frames at once
    assert after[0].pts - first.pts >= 0.4 * 48_000
    assert [f.pts - after[0].pts for f in after] == [0, FRAME_SAMPLES, 2 * FRAME_SAMPLES, 3 * FRAME_SAMPLES]
    samples = np.concatenate([first.to_ndarray().reshape(-1)] + [f.to_ndarray().reshape(-1) for f in after])
    assert (samples[:4 * FRAME_SAMPLES] == np.arange(FRAME_SAMPLES * 4)).all()  # late, not a sample lost
    assert not samples[4 * FRAME_SAMPLES:].any()


async def test_reply_track_flush_drops_pending_speech() -> None:
    track = ReplyAudioTrack()
    track.enqueue(np.full(48000, 500, np.int16))
    await track.recv()
    assert track.flush() == pytest.approx((48000 - FRAME_SAMPLES) / 48000)
    assert not (await track.recv()).to_ndarray().any()
    with pytest.raises(ValueError):
        track.enqueue(np.zeros(10, np.float32))


async def test_reply_track_hold_sends_silence_and_release_goes_on_where_it_stopped() -> None:
    track = ReplyAudioTrack()
    track.enqueue(np.arange(FRAME_SAMPLES * 3, dtype=np.int16))
    first = (await track.recv()).to_ndarray().reshape(-1)
    track.hold()
    assert track.held and not (await track.recv()).to_ndarray().any()
    assert track.pending_seconds == pytest.approx(2 * FRAME_SAMPLES / 48000)
    track.release()
    second = (await track.recv()).to_ndarray().reshape(-1)
    assert first[-1] == FRAME_SAMPLES - 1 and second[0] == FRAME_SAMPLES  # not a sample lost
    track.hold()
    track.flush()  # barge-in while held: nothing left, and the next reply is not held
    assert not track.held and track.pending_seconds == 0
