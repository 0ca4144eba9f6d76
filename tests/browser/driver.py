"""Runs one real-browser session: the server in-process, Debian chromium through Playwright.

Meant to run inside a loopback-only network namespace (see tests/browser/namespace.py), so nothing
leaves the machine. Prints one JSON object with what the page and the server saw.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from playwright.async_api import TimeoutError as PlaywrightTimeout
from playwright.async_api import async_playwright

from models.paths import pin_caches
from realtime.config import load_settings
from models.health import HealthRegistry
from realtime.http_api import CTX, SESSIONS
from realtime.model_hub import ModelHub
from realtime.server import create_app, start_app

CHROMIUM = "/usr/bin/chromium"


def chromium_args(video: Path, audio: Path) -> list[str]:
    return [
        "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={video}", f"--use-file-for-fake-audio-capture={audio}",
        "--autoplay-policy=no-user-gesture-required", "--allow-loopback-in-peer-connection",
    ]


# Measures what the page actually plays: an AnalyserNode on the reply <audio> element's stream.
METER_JS = """() => {
  const audio = document.getElementById('reply');
  const ctx = new AudioContext();
  const analyser = ctx.createAnalyser();
  ctx.createMediaStreamSource(audio.srcObject).connect(analyser);
  const buf = new Float32Array(analyser.fftSize);
  window.replyPeak = 0; window.loudSince = null;
  setInterval(() => {
    analyser.getFloatTimeDomainData(buf);
    let peak = 0; for (const v of buf) peak = Math.max(peak, Math.abs(v));
    window.replyPeak = Math.max(window.replyPeak, peak);
    if (peak > 0.05 && window.loudSince === null) window.loudSince = performance.now();
  }, 20);
}"""


async def listen_for_reply(page) -> dict:  # noqa: ANN001 - playwright Page
    """Wait for the spoken question's final transcript and the coach's answer, heard in the page."""
    async def until(condition: str, timeout_ms: int) -> None:
        """Wait for `condition`; on a timeout, say what the page had received by then."""
        try:
            await page.wait_for_function(condition, timeout=timeout_ms)
        except PlaywrightTimeout as e:
            seen = await page.evaluate("""() => ({types: window.coachState.types, transcripts:
                window.coachState.transcripts, replies: window.coachState.replies, errors: window.coachState.errors,
                connection: window.coachState.connection})""")
            raise AssertionError(f"waited {timeout_ms / 1000:.0f} s for {condition}; the page had {seen}") from e

    await until("document.getElementById('reply').srcObject !== null", 10_000)
    await page.evaluate(METER_JS)
    await until("window.coachState.transcripts.length > 0", 60_000)
    # The answer's words, not only sound: a coaching cue can make the reply track loud first.
    await until("Object.keys(window.coachState.replies).some(k => k.startsWith('answer-'))", 60_000)
    await until("window.loudSince !== null", 60_000)
    await asyncio.sleep(1.0)
    return await page.evaluate("""() => ({
        transcripts: window.coachState.transcripts,
        replies: window.coachState.replies,
        peak: window.replyPeak,
        transcriptShown: document.getElementById('transcript').innerText,
    })""")


def voice_state(session: Any) -> dict:
    """What the server's voice loop made of the microphone, for a failure report."""
    conversation, echo = session.conversation, session.echo
    listener = conversation.listener if conversation is not None else None
    return {
        "audio_s": round(session.audio_seconds, 1),
        "turns": conversation.turn if conversation is not None else None,
        "in_turn": listener.in_turn if listener is not None else None,
        "echo": None if echo is None else {"found": echo.echo_found, "delay_s": echo.delay.delay_s,
                                           "gain_db": echo.delay.echo_gain_db,
                                           "coach_speech_s": round(echo.delay.far_speech_s, 2)},
    }


async def run(args: argparse.Namespace) -> dict:
    pin_caches()
    settings = load_settings(None, data_dir=Path(args.data_dir), load_models=args.models)
    hub = None
    if args.models:  # loaded before the browser starts, so the first words are not missed
        hub = ModelHub(settings, HealthRegistry())
        hub.start_loading()
        await asyncio.get_running_loop().run_in_executor(None, hub.wait_loaded)
    app = create_app(settings, hub=hub)
    runner, port = await start_app(app)
    result: dict = {"port": port}
    try:
        async with async_playwright() as pw:
            with tempfile.TemporaryDirectory() as profile:
                context = await pw.chromium.launch_persistent_context(
                    profile, executable_path=CHROMIUM, headless=True,
                    args=chromium_args(Path(args.video), Path(args.audio)),
                    ignore_default_args=["--mute-audio"],
                )
                page = context.pages[0] if context.pages else await context.new_page()
                console: list[str] = []
                page.on("console", lambda m: console.append(f"{m.type}: {m.text}"))
                t0 = time.monotonic()
                await page.goto(f"http://127.0.0.1:{port}/?autostart=1&raw_audio=1")
                await page.wait_for_function("window.coachState.connection === 'connected'", timeout=20_000)
                result["connect_s"] = round(time.monotonic() - t0, 3)
                session = next(iter(app[SESSIONS].sessions.values()))
                frames0, audio0, t1 = session.frames_received, session.audio_seconds, time.monotonic()
                if args.chat:
                    await page.fill("#chat-text", args.chat)
                    await page.click("#chat-send")
                if args.voice:
                    try:
                        result["voice"] = await listen_for_reply(page)
                    except AssertionError as e:
                        raise AssertionError(f"{e}; the server's side: {voice_state(session)}") from e
                    await page.wait_for_function("window.coachState.heard.length > 0", timeout=10_000)
                    await asyncio.sleep(0.3)  # the report's way to the server
                    result["client_v2v_reports"] = app[CTX].metrics.registry.get_sample_value(
                        "coach_voice_to_voice_client_seconds_count")
                await asyncio.sleep(args.seconds)
                elapsed = time.monotonic() - t1
                result["video_fps"] = round((session.frames_received - frames0) / elapsed, 2)
                result["video_size"] = session.video_size
                result["audio_seconds_per_s"] = round((session.audio_seconds - audio0) / elapsed, 3)
                result["page"] = await page.evaluate("window.coachState")
                result["reply_audio_playing"] = await page.evaluate(
                    "(() => { const a = document.getElementById('reply'); return !!(a.srcObject && "
                    "a.srcObject.getAudioTracks().length && !a.paused); })()")
                if args.screenshot:
                    await page.screenshot(path=args.screenshot)
                result["console"] = console[-20:]
                await page.click("#stop")
                await asyncio.sleep(0.5)
                await context.close()
                deadline = time.monotonic() + 5
                while app[SESSIONS].sessions and time.monotonic() < deadline:
                    await asyncio.sleep(0.1)
                result["sessions_after_stop"] = len(app[SESSIONS].sessions)
    finally:
        await runner.cleanup()
        if hub is not None:
            hub.close()
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--video", required=True)
    parser.add_argument("--audio", required=True)
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--chat")
    parser.add_argument("--models", action="store_true", help="load the embedded models")
    parser.add_argument("--voice", action="store_true", help="wait for a spoken answer (needs --models)")
    parser.add_argument("--screenshot")
    args = parser.parse_args()
    print(json.dumps(asyncio.run(run(args))))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
