"""Assembles the aiohttp application and runs it: one port for everything."""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import signal

from aiohttp import web

from realtime.config import Settings
from realtime.context import ServerContext
from realtime.http_api import CTX, SESSIONS, add_routes, auth_middleware
from realtime.metrics import ServerMetrics
from realtime.model_hub import ModelHub
from realtime.sessions import SessionManager
from realtime.signaling import enable_loopback_candidates
from realtime.store import SessionStore
from realtime.websocket import websocket_session

log = logging.getLogger(__name__)


def create_app(settings: Settings, hub: ModelHub | None = None) -> web.Application:
    """The whole server as an aiohttp app (tests run it in-process on a random port).

    `hub`: models already loaded (tests and benchmarks share one across servers); by default the
    app makes its own and, with `load_models`, loads it in the background at startup.
    """
    if settings.media.ice_loopback:
        enable_loopback_candidates()
    ctx = ServerContext(settings=settings, metrics=ServerMetrics(),
                        store=SessionStore(settings.data_dir / "sessions.sqlite3"), hub=hub)
    owns_hub = hub is None
    app = web.Application(middlewares=[auth_middleware], client_max_size=settings.limits.max_sdp_bytes)
    app[CTX] = ctx
    app[SESSIONS] = SessionManager(ctx)
    add_routes(app)
    app.router.add_get("/ws", websocket_session)
    if owns_hub:
        app.on_startup.append(_start_models)
        app.on_cleanup.append(_close_models)
    app.on_shutdown.append(_close_sessions)
    app.on_cleanup.append(_close_store)
    return app


async def _start_models(app: web.Application) -> None:
    ctx = app[CTX]
    if ctx.settings.load_models:
        ctx.hub.start_loading()


async def _close_models(app: web.Application) -> None:
    app[CTX].hub.close()


async def _close_sessions(app: web.Application) -> None:
    await app[SESSIONS].close_all()


async def _close_store(app: web.Application) -> None:
    app[CTX].store.close()


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


async def serve(settings: Settings) -> None:
    """Run until SIGINT/SIGTERM, then close every session cleanly."""
    if not _is_loopback(settings.host) and not settings.token:
        log.warning("!!! binding %s with NO TOKEN: anyone who can reach this port can stream to the "
                    "server and read session records. Set COACH_TOKEN or --token. !!!", settings.host)
    app = create_app(settings)
    runner = web.AppRunner(app, handle_signals=False)
    await runner.setup()
    try:
        site = web.TCPSite(runner, settings.host, settings.port)
        await site.start()
        log.info("coach server on http://%s:%d (profile %s)", settings.host, settings.port, settings.profile)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
        log.info("stopping")
    finally:
        await runner.cleanup()
