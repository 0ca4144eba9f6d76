"""HTTP endpoints: signaling (/offer, WHIP), health, metrics, session records, the demo page.

Every client mistake gets a status code and a sentence (400 malformed, 401 token, 403 origin,
413 too large, 429 too many, 503 full, with Retry-After); nothing a client sends can raise out of
a handler.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import math
from collections.abc import Awaitable, Callable

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from models.health import ModelState
from realtime.access import Access, RateLimiter, origin_allowed
from realtime.context import ServerContext
from realtime.model_hub import SCENE_LANE
from realtime.sessions import ServerBusy, SessionManager
from realtime.signaling import OfferError, check_offer

log = logging.getLogger(__name__)

CTX = web.AppKey("ctx", ServerContext)
SESSIONS = web.AppKey("sessions", SessionManager)
ACCESS = web.AppKey("access", Access)

# Paths a page's session token opens; /sessions (every person's records) and /token need the master token.
_SESSION_PATHS = ("/offer", "/whip", "/ws")
_MASTER_PATHS = ("/sessions", "/token")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response({"error": message}, status=status, headers=headers)


def _client_address(request: web.Request) -> str:
    if request.app[CTX].settings.trust_forwarded_for and (forwarded := request.headers.get("X-Forwarded-For")):
        return forwarded.split(",")[0].strip()
    return request.remote or "unknown"


def _limiter(request: web.Request) -> RateLimiter | None:
    access = request.app[ACCESS]
    if request.method == "POST" and request.path in ("/offer", "/whip"):
        return access.offers
    if request.method == "GET" and request.path == "/ws":
        return access.websockets
    return None


@web.middleware
async def access_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Origin, rate and token checks, in that order, before any work is done for the request.

    With a master token configured, the API paths need `Authorization: Bearer` or `?token=`: the
    master token, or for /offer, /whip and /ws a session token minted with it (`POST /token`)."""
    ctx = request.app[CTX]
    settings = ctx.settings
    api = request.path.startswith(_SESSION_PATHS + _MASTER_PATHS)
    if not api or request.method == "OPTIONS":
        return await handler(request)
    origin = request.headers.get("Origin")
    if not origin_allowed(origin, settings.allowed_origins, request.host):
        ctx.metrics.requests_refused.labels("origin").inc()
        return _error(403, f"pages from {origin} may not use this server")
    if (limiter := _limiter(request)) is not None and (wait := limiter.take(_client_address(request))) > 0:
        ctx.metrics.requests_refused.labels("rate").inc()
        return _error(429, f"too many requests from this address; retry in {math.ceil(wait)} s",
                      headers={"Retry-After": str(math.ceil(wait))})
    if settings.token:
        header = request.headers.get("Authorization", "")
        given = header[7:] if header.startswith("Bearer ") else request.query.get("token", "")
        master = hmac.compare_digest(given.encode(), settings.token.encode())
        session_token = request.path.startswith(_SESSION_PATHS) and request.app[ACCESS].tokens is not None \
            and request.app[ACCESS].tokens.verify(given)
        if not (master or session_token):
            ctx.metrics.requests_refused.labels("token").inc()
            return _error(401, "missing, wrong or expired token")
    return await handler(request)


async def mint_token(request: web.Request) -> web.Response:
    """`POST /token` (master token): a session token for one page, `{"ttl_s": ...}` optional."""
    ctx = request.app[CTX]
    tokens = request.app[ACCESS].tokens
    if tokens is None:
        return _error(404, "this server has no master token, so it needs no session tokens")
    body = await _read_body(request, 1024)
    ttl = ctx.settings.session_token_ttl_s
    if body.strip():
        try:
            asked = json.loads(body).get("ttl_s", ttl)
            if not isinstance(asked, int | float) or isinstance(asked, bool) or asked <= 0:
                raise ValueError("ttl_s must be a positive number of seconds")
        except (ValueError, AttributeError, RecursionError) as exc:
            return _error(400, f"invalid JSON body: {exc}")
        ttl = min(float(asked), ttl)
    token, expires = tokens.mint(ttl)
    return web.json_response({"token": token, "expires_at": expires, "ttl_s": ttl})


def _retry_after(ctx: ServerContext) -> dict[str, str]:
    """A full server says when to come back."""
    return {"Retry-After": str(ctx.settings.limits.retry_after_s)}


async def _read_body(request: web.Request, limit: int) -> bytes:
    if request.content_length is not None and request.content_length > limit:
        raise web.HTTPRequestEntityTooLarge(max_size=limit, actual_size=request.content_length,
                                            text=json.dumps({"error": f"body over {limit} bytes"}),
                                            content_type="application/json")
    body = await request.content.read(limit + 1)
    if len(body) > limit:
        raise web.HTTPRequestEntityTooLarge(max_size=limit, actual_size=len(body),
                                            text=json.dumps({"error": f"body over {limit} bytes"}),
                                            content_type="application/json")
    return body


def _client(request: web.Request) -> str:
    return f"{request.remote} {request.headers.get('User-Agent', '')[:120]}"


async def offer(request: web.Request) -> web.Response:
    """JSON offer in, JSON answer out, with the new session's id."""
    ctx = request.app[CTX]
    body = await _read_body(request, ctx.settings.limits.max_sdp_bytes)
    try:
        data = json.loads(body)
        if not isinstance(data, dict):
            raise ValueError("body must be a JSON object")
        sdp = check_offer(data.get("sdp"), data.get("type"))
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        return _error(400, str(exc) if isinstance(exc, OfferError) else f"invalid JSON body: {exc}")
    try:
        session, answer = await request.app[SESSIONS].open_webrtc(sdp, "webrtc", _client(request))
    except ServerBusy as exc:
        return _error(503, str(exc), headers=_retry_after(ctx))
    except OfferError as exc:
        return _error(400, str(exc))
    return web.json_response({"sdp": answer, "type": "answer", "session_id": session.id})


async def whip_publish(request: web.Request) -> web.Response:
    """WHIP (RFC 9725): `application/sdp` offer in, 201 with Location and the answer SDP out."""
    ctx = request.app[CTX]
    if request.content_type != "application/sdp":
        return web.Response(status=415, text="WHIP needs Content-Type: application/sdp")
    body = await _read_body(request, ctx.settings.limits.max_sdp_bytes)
    try:
        sdp = check_offer(body.decode("utf-8"))
        session, answer = await request.app[SESSIONS].open_webrtc(sdp, "whip", _client(request))
    except (OfferError, UnicodeDecodeError) as exc:
        return web.Response(status=400, text=str(exc))
    except ServerBusy as exc:
        return web.Response(status=503, text=str(exc), headers=_retry_after(ctx))
    location = f"/whip/{session.id}"
    return web.Response(status=201, text=answer, content_type="application/sdp",
                        headers={"Location": location, "ETag": f'"{session.id}"'})


async def whip_delete(request: web.Request) -> web.Response:
    closed = await request.app[SESSIONS].close(request.match_info["session_id"], "WHIP DELETE")
    return web.Response(status=200) if closed else web.Response(status=404, text="no such session")


async def whip_patch(request: web.Request) -> web.Response:
    """Trickle ICE and ICE restarts are not supported: the answer already holds every candidate."""
    return web.Response(status=405, headers={"Allow": "DELETE"}, text="trickle ICE is not supported")


async def health(request: web.Request) -> web.Response:
    ctx = request.app[CTX]
    families = {name: status.model_dump(exclude={"family"}) for name, status in ctx.health.snapshot().items()}
    ready = all(s["state"] == "ready" for s in families.values())
    return web.json_response({
        "status": "ok" if ready else "degraded",
        "profile": ctx.settings.profile,
        "sessions": len(request.app[SESSIONS].sessions),
        "models": families,
    })


async def ready(request: web.Request) -> web.Response:
    """Whether this replica takes a new camera session now: 200, or 503 with the reason and Retry-After.

    For a load balancer's health check (HAProxy `option httpchk`, a Kubernetes readinessProbe):
    a full replica stops receiving new people and keeps those it has."""
    ctx = request.app[CTX]
    sessions = request.app[SESSIONS]
    # The scene families (BLIP-2 alone is gigabytes) only add facts: a session reads them once loaded.
    loading = [name for name, status in ctx.health.snapshot().items()
               if status.state is ModelState.LOADING and name not in SCENE_LANE]
    if loading:
        return _error(503, f"models still loading: {', '.join(sorted(loading))}", headers=_retry_after(ctx))
    if (refused := sessions.refusal(with_video=True)) is not None:
        return _error(503, refused[1], headers=_retry_after(ctx))
    return web.json_response({"ready": True, "replica": ctx.settings.replica, "sessions": len(sessions.sessions)})


async def metrics(request: web.Request) -> web.Response:
    body = generate_latest(request.app[CTX].metrics.registry)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


async def session_record(request: web.Request) -> web.Response:
    ctx = request.app[CTX]
    session_id = request.match_info["session_id"]
    try:
        record = await asyncio.get_running_loop().run_in_executor(None, ctx.store.get, session_id)
    except Exception as exc:  # noqa: BLE001 - the records database is away: say so, never a 500
        log.warning("session record %s unreadable: %s", session_id, exc)
        return _error(503, "the session records are unavailable right now; try again shortly",
                      headers=_retry_after(ctx))
    if record is None:
        return _error(404, f"no session {session_id!r}")
    live = request.app[SESSIONS].sessions.get(session_id)
    record["live"] = live is not None
    if live is not None:
        record["frames_received"] = live.frames_received
        record["frames_analysed"] = live.frames_analysed
        record["audio_seconds"] = round(live.audio_seconds, 3)
    return web.json_response(record)


async def client_config(request: web.Request) -> web.Response:
    """What the browser needs before it makes its offer: ICE servers and the session limit."""
    ctx = request.app[CTX]
    servers = [s.model_dump(exclude_none=True) for s in ctx.settings.media.ice_servers]
    return web.json_response({"iceServers": servers, "tokenRequired": bool(ctx.settings.token)})


async def favicon(request: web.Request) -> web.Response:
    return web.Response(status=204)


async def index(request: web.Request) -> web.FileResponse:
    return web.FileResponse(request.app[CTX].settings.web_dir / "index.html")


def add_routes(app: web.Application) -> None:
    app.router.add_post("/offer", offer)
    app.router.add_post("/token", mint_token)
    app.router.add_post("/whip", whip_publish)
    app.router.add_delete("/whip/{session_id}", whip_delete)
    app.router.add_patch("/whip/{session_id}", whip_patch)
    app.router.add_get("/health", health)
    app.router.add_get("/ready", ready)
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/sessions/{session_id}", session_record)
    app.router.add_get("/config", client_config)
    app.router.add_get("/", index)
    app.router.add_get("/favicon.ico", favicon)
    app.router.add_static("/static/", app[CTX].settings.web_dir, show_index=False)
