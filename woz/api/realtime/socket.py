"""`GET /v1/realtime?model=<persona>`: the WebSocket of the OpenAI Realtime API.

Authentication is the app key, as for every `/v1/` path: `Authorization: Bearer`
(the SDKs on a server), or, from a browser, which cannot set headers on a
WebSocket, the subprotocol `openai-insecure-api-key.<key>` beside `realtime`
(the API's own convention; the server answers with `realtime`). A problem found
before the upgrade (no key, an unknown model) is an HTTP error in OpenAI's shape;
after it, every problem is an `error` event and the socket stays open.
"""

from __future__ import annotations

import aiohttp
import structlog
from aiohttp import web

from woz.api.core.intake import find_persona
from woz.api.realtime.events import MAX_EVENT_BYTES, EventError, error_event
from woz.api.realtime.session import RealtimeSession
from woz.context import runtime_of
from woz.errors import invalid_request
from woz.models.study import Persona

log = structlog.get_logger(__name__)

KEY_PROTOCOL_PREFIX = "openai-insecure-api-key."
REALTIME_PROTOCOL = "realtime"


def offered_protocols(request: web.Request) -> list[str]:
    header = request.headers.get("Sec-WebSocket-Protocol", "")
    return [p.strip() for p in header.split(",") if p.strip()]


def key_from_protocols(request: web.Request) -> str | None:
    """The app key a browser put in its subprotocols, if any."""
    for protocol in offered_protocols(request):
        if protocol.startswith(KEY_PROTOCOL_PREFIX):
            return protocol[len(KEY_PROTOCOL_PREFIX) :] or None
    return None


async def realtime(request: web.Request) -> web.StreamResponse:
    model = request.query.get("model", "")
    if not model:
        raise invalid_request(
            "Missing required parameter: 'model' (the persona, as in "
            "`/v1/realtime?model=<persona>`).",
            param="model",
            code="missing_required_parameter",
        )
    return await serve_session(request, find_persona(request, model))


async def serve_session(request: web.Request, persona: Persona) -> web.StreamResponse:
    """A Realtime session with `persona` on `request`, once its caller is known (an app
    key, or the participant page's cookie)."""
    speaking = runtime_of(request).speech
    # The echoed subprotocol must be one the client offered, or a browser drops the socket.
    protocols = (REALTIME_PROTOCOL,) if REALTIME_PROTOCOL in offered_protocols(request) else ()
    ws = web.WebSocketResponse(protocols=protocols, max_msg_size=MAX_EVENT_BYTES, heartbeat=20.0)
    if not ws.can_prepare(request).ok:
        raise invalid_request(
            "/v1/realtime is a WebSocket: connect with an Upgrade request "
            "(`client.realtime.connect()` in the openai SDK).",
            code="websocket_required",
        )
    await ws.prepare(request)
    session = RealtimeSession(request, ws, persona, speaking.voice)
    log.info("realtime.opened", session_id=session.id, persona=persona.id)
    await session.opened()
    try:
        async for message in ws:
            if message.type == aiohttp.WSMsgType.TEXT:
                await session.handle(message.data)
            elif message.type == aiohttp.WSMsgType.BINARY:
                await session.send(
                    error_event(
                        EventError(
                            "Events are JSON text frames; binary frames are not accepted.",
                            code="invalid_event",
                        )
                    )
                )
            elif message.type == aiohttp.WSMsgType.ERROR:
                break
    finally:
        await session.closed()
        log.info("realtime.closed", session_id=session.id)
    return ws
