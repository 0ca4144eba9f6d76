"""`GET /ws`: the text conversation for clients without WebRTC, same protocol as the data channel.

Oversize messages are refused with an error message rather than by closing the socket (the frame
limit is set well above the message limit so the server gets to say why).
"""

from __future__ import annotations

import logging

from aiohttp import WSMsgType, web

from realtime.http_api import CTX, SESSIONS
from realtime.protocol import ErrorMessage
from realtime.sessions import ServerBusy

log = logging.getLogger(__name__)


async def websocket_session(request: web.Request) -> web.StreamResponse:
    ctx = request.app[CTX]
    limit = ctx.settings.limits.max_message_bytes
    ws = web.WebSocketResponse(max_msg_size=limit * 4, heartbeat=20)
    await ws.prepare(request)
    try:
        session = await request.app[SESSIONS].open_websocket(ws, request.remote)
    except ServerBusy as exc:
        await ws.send_str(ErrorMessage(code="busy", message=str(exc)).model_dump_json())
        await ws.close(code=1013, message=b"server busy")
        return ws
    session.send(session.hello())
    reason = "websocket closed"
    try:
        async for msg in ws:
            if msg.type == WSMsgType.TEXT:
                await session.handle_raw(msg.data)
            elif msg.type == WSMsgType.BINARY:
                session.send(ErrorMessage(code="unsupported", message="binary messages are not accepted; "
                                          "send JSON text"))
            elif msg.type == WSMsgType.ERROR:
                reason = f"websocket error: {ws.exception()}"
                break
    finally:
        await session.close(reason)
    return ws
