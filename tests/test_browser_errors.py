"""The demo page tells the person what went wrong: permission refused, no camera, server gone, a
model the session needs missing.

These run in-process against the server on 127.0.0.1 with Chromium's background networking off;
only the last makes a WebRTC connection (the others fail before one).
"""

from __future__ import annotations

import pytest
from playwright.async_api import async_playwright

from tests.browser.driver import CHROMIUM

pytestmark = pytest.mark.browser

BASE_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync"]
FAKE_DEVICES = ["--use-fake-device-for-media-stream"]


async def error_after_start(url: str, args: list[str], stop_server=None) -> str:  # noqa: ANN001
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=BASE_ARGS + args)
        try:
            page = await browser.new_page()
            await page.goto(url)
            if stop_server is not None:
                await stop_server()
            await page.click("#start")
            await page.wait_for_selector("#error:not([hidden])", timeout=10_000)
            assert await page.is_enabled("#start")  # the person can try again
            return await page.inner_text("#error")
        finally:
            await browser.close()


async def test_permission_refused(server) -> None:
    # fake devices exist, but without --use-fake-ui-for-media-stream headless Chromium denies access
    text = await error_after_start(server.url, FAKE_DEVICES)
    assert "permission was refused" in text


async def test_no_camera(server) -> None:
    text = await error_after_start(server.url, ["--use-fake-ui-for-media-stream"])
    assert "No camera or microphone was found" in text


async def test_server_unreachable(server) -> None:
    text = await error_after_start(server.url, FAKE_DEVICES + ["--use-fake-ui-for-media-stream"],
                                   stop_server=server.runner.cleanup)
    assert "cannot be reached" in text


async def test_a_model_the_camera_needs_is_said_missing_in_the_conversation(server) -> None:
    # This server loads no models: once the camera's frames arrive, the page says pose is missing.
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=BASE_ARGS + FAKE_DEVICES + [
            "--use-fake-ui-for-media-stream"])
        try:
            page = await browser.new_page()
            await page.goto(server.url)
            await page.click("#start")
            note = await page.wait_for_selector("#transcript li.note", timeout=20_000)
            assert "pose model" in await note.inner_text()
            assert await page.is_hidden("#error")
        finally:
            await browser.close()
