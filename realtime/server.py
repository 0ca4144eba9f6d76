"""Assembles the aiohttp application and runs it: one port for everything."""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import signal
import socket

from aiohttp import web

from realtime.config import Settings
from realtime.context import ServerContext
from realtime.access import Access
from realtime.http_api import ACCESS, CTX, SESSIONS, access_middleware, add_routes
from realtime.metrics import ServerMetrics
from realtime.model_hub import ModelHub
from realtime.protocol import Status
from realtime.sessions import SessionManager
from realtime.signaling import enable_loopback_candidates
from realtime.records import open_store
from realtime.tracing import open_tracer
from realtime.websocket import websocket_session

log = logging.getLogger(__name__)

_ANNOUNCER = web.AppKey("model_announcer", asyncio.Task)
_LOADING_WAIT_S = 30.0  # the longest a stop waits for a family loading (an embedded one takes seconds)


def create_app(settings: Settings, hub: ModelHub | None = None) -> web.Application:
    """The whole server as an aiohttp app (tests run it in-process on a random port).

    `hub`: models already loaded (tests and benchmarks share one across servers); by default the
    app makes its own and, with `load_models`, loads it in the background at startup.
    """
    if settings.media.ice_loopback:
        enable_loopback_candidates()
    ctx = ServerContext(settings=settings, metrics=ServerMetrics(),
                        store=open_store(settings.records_url, settings.data_dir), hub=hub,
                        tracer=open_tracer(settings.otlp_endpoint, settings.replica))
    ctx.metrics.count_from("coach_records_dropped", "Session records dropped because the database was away "
                           "and too many were waiting for it", lambda: ctx.store.dropped)
    owns_hub = hub is None
    app = web.Application(middlewares=[access_middleware], client_max_size=settings.limits.max_sdp_bytes)
    app[CTX] = ctx
    app[SESSIONS] = SessionManager(ctx)
    app[ACCESS] = Access.from_settings(settings)
    add_routes(app)
    app.router.add_get("/ws", websocket_session)
    if owns_hub:
        app.on_startup.append(_start_models)
        app.on_cleanup.append(_close_models)
    app.on_shutdown.append(_close_sessions)
    app.on_cleanup.append(_close_outputs)
    return app


async def _start_models(app: web.Application) -> None:
    ctx = app[CTX]
    if ctx.settings.load_models:
        ctx.hub.start_loading()
        app[_ANNOUNCER] = asyncio.get_running_loop().create_task(_announce_models(app), name="model-announcer")


async def _announce_models(app: web.Application) -> None:
    """Tell every connected client when a model family changes state (e.g. finishes loading)."""
    ctx = app[CTX]
    last = ctx.model_states()
    while not ctx.hub.wait_loaded(timeout=0) or last != ctx.model_states():
        await asyncio.sleep(0.5)
        now = ctx.model_states()
        if now != last:
            last = now
            for session in list(app[SESSIONS].sessions.values()):
                session.send(Status(state="models", message="model status changed", models=now))


async def _close_models(app: web.Application) -> None:
    if (announcer := app.get(_ANNOUNCER)) is not None:
        announcer.cancel()
    # Stopped during start-up: the family being loaded finishes first (`ModelHub.close`).
    if not await asyncio.to_thread(app[CTX].hub.close, _LOADING_WAIT_S):
        log.warning("model families still loading after %.0f s; exiting under them", _LOADING_WAIT_S)


async def _close_sessions(app: web.Application) -> None:
    await app[SESSIONS].close_all()


async def _close_outputs(app: web.Application) -> None:
    """The records and traces still buffered go out before the process ends."""
    app[CTX].store.close()
    app[CTX].tracer.close()


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _listening_socket(host: str, port: int) -> socket.socket:
    """host:port bound and listening. Taken before the app starts: a port already in use is
    refused at once, before any model family starts loading in native threads that the
    interpreter cannot stop on its way out (which aborted the process)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    return socket.create_server((host, port), family=family)


async def start_app(app: web.Application, host: str = "127.0.0.1", port: int = 0) -> tuple[web.AppRunner, int]:
    """Serve `app` on host:port (0 = any free port); returns the runner (to clean up) and the port.
    OSError when the address cannot be bound; the app has not started then."""
    sock = _listening_socket(host, port)
    runner = web.AppRunner(app, handle_signals=False)
    try:
        await runner.setup()
        await web.SockSite(runner, sock).start()
    except BaseException:
        await runner.cleanup()
        sock.close()
        raise
    return runner, sock.getsockname()[1]


async def serve(settings: Settings) -> None:
    """Run until SIGINT/SIGTERM, then close every session cleanly."""
    if not _is_loopback(settings.host) and not settings.token:
        log.warning("!!! binding %s with NO TOKEN: anyone who can reach this port can stream to the "
                    "server and read session records. Set COACH_TOKEN or --token. !!!", settings.host)
    runner, port = await start_app(create_app(settings), settings.host, settings.port)
    try:
        log.info("coach server on http://%s:%d (profile %s)", settings.host, port, settings.profile)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
        log.info("stopping")
    finally:
        await runner.cleanup()
