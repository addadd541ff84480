"""The AI-looking HTTP API: dialect facades under `/v1/`."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

import structlog
from aiohttp import web

from woz.api.anthropic.messages import count_message_tokens, create_message
from woz.api.core.errors import api_errors
from woz.api.models import list_models, retrieve_model
from woz.api.openai.chat import create_chat_completion
from woz.api.openai.moderations import create_moderation
from woz.api.openai.responses import create_response
from woz.api.openai.responses_items import list_input_items
from woz.api.openai.responses_stored import (
    cancel_response,
    delete_response,
    retrieve_response,
    setup_background,
)
from woz.api.openai.speech import create_speech
from woz.api.openai.transcriptions import create_transcription
from woz.api.passthrough import create_embedding
from woz.api.realtime.listen import LIVE_VOICE, LiveVoice, listen
from woz.api.realtime.socket import key_from_protocols, realtime
from woz.auth.tokens import bearer_token
from woz.context import APP_KEY, KEYS, scope_to
from woz.errors import ErrorKind, WozError
from woz.models.keys import KeyInfo

REALTIME_PATH = "/v1/realtime"


@web.middleware
def api_auth(request: web.Request, handler: Any) -> Awaitable[web.StreamResponse]:
    """Every `/v1/` request carries an app key: `Authorization: Bearer` or `x-api-key`;
    the key's study is the one the request works in.

    Not a coroutine: with a key seen before (nearly every request) it returns the
    handler's own awaitable, so no frame of it stays alive while a request waits. The
    key id it binds into the log context ends with the request (see `request_context`)."""
    if not request.path.startswith("/v1/"):
        response: Awaitable[web.StreamResponse] = handler(request)
        return response
    token = (
        bearer_token(request.headers.get("Authorization"))
        or request.headers.get("x-api-key")
        or (key_from_protocols(request) if request.path == REALTIME_PATH else None)
    )
    if not token:
        raise WozError(
            ErrorKind.AUTHENTICATION,
            "No API key given: send 'Authorization: Bearer <app key>'.",
            code="missing_api_key",
        )
    keys = request.app[KEYS]
    seen = keys.seen(token)
    if seen is None:
        return _verified(request, handler, token)
    return _admitted(request, handler, keys.allowed(seen, ("app",)))


async def _verified(request: web.Request, handler: Any, token: str) -> web.StreamResponse:
    """A key not seen before: asked of the store, then as `_admitted`."""
    info = await request.app[KEYS].verify(token, "app")
    response: web.StreamResponse = await _admitted(request, handler, info)
    return response


def _admitted(
    request: web.Request, handler: Any, info: KeyInfo | None
) -> Awaitable[web.StreamResponse]:
    if info is None:
        raise WozError(
            ErrorKind.AUTHENTICATION,
            "Incorrect API key provided. Create one with `woz keys create --role app`.",
            code="invalid_api_key",
        )
    if scope_to(request, info) is None:
        raise WozError(
            ErrorKind.AUTHENTICATION,
            f"This API key belongs to study {info.study_id!r}, which this server does not serve.",
            code="invalid_api_key",
        )
    request[APP_KEY] = info
    structlog.contextvars.bind_contextvars(app_key=info.id, study=info.study_id)
    response: Awaitable[web.StreamResponse] = handler(request)
    return response


def setup_api(app: web.Application) -> None:
    app.router.add_post("/v1/chat/completions", create_chat_completion)
    app.router.add_post("/v1/messages", create_message)
    app.router.add_post("/v1/messages/count_tokens", count_message_tokens)
    app.router.add_post("/v1/responses", create_response)
    app.router.add_get("/v1/responses/{response_id}", retrieve_response)
    app.router.add_delete("/v1/responses/{response_id}", delete_response)
    app.router.add_post("/v1/responses/{response_id}/cancel", cancel_response)
    app.router.add_get("/v1/responses/{response_id}/input_items", list_input_items)
    setup_background(app)
    app.router.add_post("/v1/audio/transcriptions", create_transcription)
    app.router.add_post("/v1/audio/speech", create_speech)
    app.router.add_get(REALTIME_PATH, realtime)
    app[LIVE_VOICE] = LiveVoice()
    app.router.add_get("/operator/voice/{session_id}", listen)
    app.router.add_post("/v1/moderations", create_moderation)
    app.router.add_post("/v1/embeddings", create_embedding)
    app.router.add_get("/v1/models", list_models)
    app.router.add_get("/v1/models/{model:.+}", retrieve_model)


__all__ = ["api_auth", "api_errors", "setup_api"]
