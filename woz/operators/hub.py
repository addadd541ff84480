"""`GET /operator/ws`: operators connect, receive tasks and answer them; and
`GET /operator/media/{id}`: the audio of their tasks, for them only.

Programs authenticate with `Authorization: Bearer <operator token>`; browsers
with the console's session cookie, and then only from an allowed Origin (the
server's own, `WOZ_PUBLIC_URL`'s, or `WOZ_ALLOWED_ORIGINS`; see `woz.auth.origin`).
Both are checked before the upgrade.
A malformed frame is answered with an `error` frame; the connection stays.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import structlog
from aiohttp import WSCloseCode, WSMsgType, web
from pydantic import ValidationError

from woz.auth.origin import origin_allowed
from woz.auth.sessions import session_key
from woz.auth.tokens import bearer_token, hash_token
from woz.context import KEYS, MEDIA, SETTINGS, STORE, STUDIES, runtime_of, scope_to
from woz.dispatch.base import Dispatcher, OperatorIdentity, Rejected
from woz.jsontext import loads
from woz.media.files import media_type_of
from woz.models.keys import KeyInfo
from woz.models.protocol import (
    OPERATOR_FRAME,
    PROTOCOL_VERSION,
    MyWorkFrame,
    PauseFrame,
    PingFrame,
    ReadyFrame,
    ReleaseFrame,
    ReplyFrame,
    ReportErrorFrame,
    ReuseConsentFrame,
    TypingFrame,
)
from woz.models.server_frames import (
    ErrorFrame,
    ErrorReportedFrame,
    HelloFrame,
    MyWorkReplyFrame,
    NoticeFrame,
    PongFrame,
    ReplyAckFrame,
    ReplyError,
    ReplyRejectedFrame,
    ReuseConsentRecordedFrame,
)
from woz.models.task import Answer
from woz.operators.backlog import SendLimits
from woz.operators.connection import OperatorConnection
from woz.operators.revocation import close_when_revoked
from woz.research.consent import ConsentRefused
from woz.research.operators import RecordRefused, consent_summary

if TYPE_CHECKING:
    from woz.runtime import StudyRuntime

log = structlog.get_logger(__name__)

SESSION_COOKIE = "woz_console"


def _refuse(status: int, message: str) -> web.HTTPException:
    exc_class = web.HTTPUnauthorized if status == 401 else web.HTTPForbidden
    return exc_class(
        text=json.dumps({"error": {"message": message}}), content_type="application/json"
    )


async def authenticate_operator(request: web.Request, *, origin_required: bool = True) -> KeyInfo:
    """The operator key behind this request, or an HTTP error before any upgrade.

    With the session cookie, the Origin must be allowed. A browser sends none when
    an `<audio>` element fetches media from the console's own origin, so a plain
    GET may say `origin_required=False`: an Origin it does send must still be allowed.
    """
    token = bearer_token(request.headers.get("Authorization"))
    if token is not None:
        info = await request.app[KEYS].verify(token, "operator")
        if info is None:
            raise _refuse(401, "Unknown operator token.")
        return _scoped(request, info)
    session = request.cookies.get(SESSION_COOKIE)
    if session is None:
        raise _refuse(401, "Log in with the operator link first.")
    if (origin_required or "Origin" in request.headers) and not origin_allowed(request):
        raise _refuse(403, "This origin may not open the operator console.")
    info = await session_key(request, session, "operator")
    if info is None:
        raise _refuse(401, "The console session has expired; log in again.")
    return _scoped(request, info)


def _credential(request: web.Request) -> Callable[[], Awaitable[bool]]:
    """Whether the credential this socket was opened with still opens it (checked by
    `close_when_revoked`): the bearer token's key, or the console session."""
    token = bearer_token(request.headers.get("Authorization"))
    if token is not None:
        keys = request.app[KEYS]

        async def key_live() -> bool:
            return await keys.verify(token, "operator") is not None

        return key_live
    store, session = request.app[STORE], hash_token(request.cookies.get(SESSION_COOKIE, ""))

    async def session_live() -> bool:
        return await store.console_session(session) is not None

    return session_live


def _scoped(request: web.Request, key: KeyInfo) -> KeyInfo:
    """`key`, with the request scoped to its study (which must be served here)."""
    if scope_to(request, key) is None:
        raise _refuse(401, f"This key's study {key.study_id!r} is not served here.")
    return key


async def _hello(request: web.Request, key: KeyInfo) -> dict[str, Any]:
    """The `hello` frame's fields: who the operator is here, the study, its snippets,
    its personas, and the reuse agreement with the operator's consent in force."""
    study = runtime_of(request).study
    return {
        "protocol": PROTOCOL_VERSION,
        "operator": {
            "id": runtime_of(request).recorder.operator_pseudonym(key.id),
            "display_name": key.name,
        },
        "study": {"id": study.id, "title": study.title},
        "snippets": [s.model_dump() for s in study.snippets],
        "personas": [
            {"id": p.id, "display_name": p.display_name, "guide": p.guide, "live": p.live}
            for p in study.personas
        ],
        "reuse_agreement": await runtime_of(request).operator_records.agreement_for(key),
    }


async def operator_socket(request: web.Request) -> web.WebSocketResponse:
    key = await authenticate_operator(request)
    settings = request.app[SETTINGS]
    ws = web.WebSocketResponse(heartbeat=settings.heartbeat_s, max_msg_size=4 * 1024 * 1024)
    await ws.prepare(request)
    connection = OperatorConnection(ws, key.id, request.transport, SendLimits.of(settings))
    connection.start()
    runtime = runtime_of(request)
    connections = runtime.connections
    dispatcher = runtime.dispatcher
    structlog.contextvars.bind_contextvars(operator=key.id)
    revocation: asyncio.Task[None] | None = None
    try:
        previous = connections.get(key.id)
        connections[key.id] = connection
        if previous is not None:  # connected again through this process
            await previous.end_replaced()
        connection.send_frame(HelloFrame(**await _hello(request, key)))
        await dispatcher.connect(OperatorIdentity(key.id, key.name), connection)
        revocation = asyncio.create_task(
            close_when_revoked(_credential(request), connection, settings.operator_key_check_s)
        )
        async for message in ws:
            if message.type == WSMsgType.TEXT:
                await _handle(request, connection, key, message.data)
            elif message.type == WSMsgType.BINARY:
                connection.send_frame(
                    ErrorFrame(code="bad_frame", message="Send text frames of JSON.")
                )
    finally:
        if revocation is not None:
            revocation.cancel()
        await asyncio.shield(dispatcher.disconnect(key.id, connection))
        try:
            if connections.get(key.id) is connection:
                del connections[key.id]
                await runtime.presence.mark(key.id, "offline")  # not replaced by a new socket
        finally:  # even if the handler is cancelled again while marking presence
            await connection.stop()
    return ws


async def _handle(
    request: web.Request, connection: OperatorConnection, key: KeyInfo, data: str
) -> None:
    try:
        raw: Any = loads(data)
    except ValueError as exc:
        connection.send_frame(ErrorFrame(code="bad_frame", message=f"Not JSON: {exc}."))
        return
    try:
        frame = OPERATOR_FRAME.validate_python(raw)
    except ValidationError as exc:
        problem = exc.errors()[0]
        where = ".".join(str(p) for p in problem["loc"]) or "frame"
        connection.send_frame(ErrorFrame(code="bad_frame", message=f"{where}: {problem['msg']}"))
        return
    dispatcher = runtime_of(request).dispatcher
    operator = connection.operator_key_id
    try:
        if isinstance(frame, ReadyFrame):
            await dispatcher.ready(operator, frame.capacity)
            await runtime_of(request).presence.mark(operator, "available")
        elif isinstance(frame, PauseFrame):
            await dispatcher.pause(operator)
            await runtime_of(request).presence.mark(operator, "paused")
        elif isinstance(frame, TypingFrame):
            await dispatcher.typing(operator, frame.task_id, frame.text)
        elif isinstance(frame, ReleaseFrame):
            await dispatcher.release(operator, frame.task_id)
        elif isinstance(frame, ReplyFrame):
            await connection.run(_reply(dispatcher, connection, frame))
        elif isinstance(frame, ReuseConsentFrame):
            await _reuse_consent(request, connection, key, frame)
        elif isinstance(frame, ReportErrorFrame):
            await _report_error(request, connection, key, frame)
        elif isinstance(frame, MyWorkFrame):
            connection.send_frame(
                MyWorkReplyFrame(work=await runtime_of(request).operator_records.work_of(key))
            )
        elif isinstance(frame, PingFrame):
            connection.send_frame(PongFrame())
    except Rejected as rejected:
        task_id = getattr(frame, "task_id", None)
        connection.send_frame(
            ErrorFrame(code=rejected.code, message=rejected.message, task_id=task_id)
        )


async def _reply(dispatcher: Dispatcher, connection: OperatorConnection, frame: ReplyFrame) -> None:
    """Commit one answer and acknowledge it (or say why it was refused)."""
    answer = Answer(
        content=frame.content,
        tool_calls=[call.to_call() for call in frame.tool_calls or []],
        finish_reason=frame.finish_reason or "stop",
        input_transcript=frame.transcript or None,
    )
    try:
        record_id = await dispatcher.reply(connection.operator_key_id, frame.task_id, answer)
    except Rejected as rejected:
        error = ReplyError(code=rejected.code, message=rejected.message)
        connection.send_frame(ReplyRejectedFrame(task_id=frame.task_id, error=error))
    else:
        connection.send_frame(ReplyAckFrame(task_id=frame.task_id, record_id=record_id))


async def _reuse_consent(
    request: web.Request, connection: OperatorConnection, key: KeyInfo, frame: ReuseConsentFrame
) -> None:
    """Record the operator's consent to the reuse of their text, given in the console."""
    consents = runtime_of(request).operator_records
    try:
        consent = await consents.record(
            key, frame.scopes, "console", consents.pseudonym_of(key), version=frame.version
        )
    except ConsentRefused as refused:
        connection.send_frame(ErrorFrame(code="consent_refused", message=str(refused)))
    else:
        connection.send_frame(ReuseConsentRecordedFrame(consent=consent_summary(consent)))


async def _report_error(
    request: web.Request, connection: OperatorConnection, key: KeyInfo, frame: ReportErrorFrame
) -> None:
    """The operator says an answer they sent was a mistake: the record is flagged."""
    try:
        note = await runtime_of(request).operator_records.report_own_error(
            key, frame.record_id, frame.note
        )
    except RecordRefused as refused:
        connection.send_frame(ErrorFrame(code="unknown_record", message=str(refused)))
    else:
        connection.send_frame(ErrorReportedFrame(record_id=frame.record_id, wizard_error=note))


async def operator_media(request: web.Request) -> web.StreamResponse:
    """`GET /operator/media/{id}`: an uploaded file (audio to transcribe), for operators only.

    Served with its own Content-Type, byte ranges (so the console can seek), and
    headers that keep a browser from treating it as anything but media.
    """
    await authenticate_operator(request, origin_required=False)
    media_id = request.match_info["media_id"]
    path = await request.app[MEDIA].path_of(media_id)
    if path is None:
        raise web.HTTPNotFound(
            text=json.dumps({"error": {"message": "No such media."}}),
            content_type="application/json",
        )
    return web.FileResponse(
        path,
        headers={
            "Content-Type": media_type_of(media_id),
            "Cache-Control": "private, max-age=3600",
            "Content-Security-Policy": "default-src 'none'; sandbox",
            "X-Content-Type-Options": "nosniff",
        },
    )


def send_notice(runtime: StudyRuntime, text: str, sender: str) -> int:
    """A researcher's note to every operator connected to the study (a `notice` frame);
    how many got it."""
    at = datetime.now(UTC).isoformat()
    connections = list(runtime.connections.values())
    for connection in connections:
        connection.send_frame(NoticeFrame(text=text, sender=sender, at=at))
    return len(connections)


async def _close_sockets(app: web.Application) -> None:
    """Shutting down: tell every operator, so their consoles reconnect to the next server.

    All at once: an operator whose socket cannot take the closing frame holds up no one."""
    await asyncio.gather(
        *(
            connection.close(code=WSCloseCode.GOING_AWAY, message=b"server shutting down")
            for runtime in app[STUDIES]
            for connection in list(runtime.connections.values())
        )
    )


def setup_operators(app: web.Application) -> None:
    app.on_shutdown.append(_close_sockets)
    app.router.add_get("/operator/ws", operator_socket)
    app.router.add_get("/operator/media/{media_id}", operator_media)
