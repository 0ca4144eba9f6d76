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

from aiohttp import web
from playwright.async_api import async_playwright

from models.paths import pin_caches
from realtime.config import load_settings
from realtime.http_api import SESSIONS
from realtime.server import create_app

CHROMIUM = "/usr/bin/chromium"


def chromium_args(video: Path, audio: Path) -> list[str]:
    return [
        "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={video}", f"--use-file-for-fake-audio-capture={audio}",
        "--autoplay-policy=no-user-gesture-required", "--allow-loopback-in-peer-connection",
    ]


async def run(args: argparse.Namespace) -> dict:
    pin_caches()
    settings = load_settings(None, data_dir=Path(args.data_dir), load_models=args.models)
    app = create_app(settings)
    runner = web.AppRunner(app, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
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
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--video", required=True)
    parser.add_argument("--audio", required=True)
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--chat")
    parser.add_argument("--models", action="store_true", help="load the embedded models")
    parser.add_argument("--screenshot")
    args = parser.parse_args()
    print(json.dumps(asyncio.run(run(args))))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
