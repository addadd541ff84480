"""The AI-looking HTTP API: dialect facades under `/v1/`."""

from __future__ import annotations

from typing import Any

import structlog
from aiohttp import web

from woz.api.anthropic_messages import count_message_tokens, create_message
from woz.api.errors import api_errors
from woz.api.models import list_models, retrieve_model
from woz.api.openai_chat import create_chat_completion
from woz.api.openai_moderations import create_moderation
from woz.api.openai_responses import create_response
from woz.api.openai_responses_items import list_input_items
from woz.api.openai_responses_stored import (
    cancel_response,
    delete_response,
    retrieve_response,
    setup_background,
)
from woz.api.openai_speech import create_speech
from woz.api.openai_transcriptions import create_transcription
from woz.api.passthrough import create_embedding
from woz.auth import bearer_token
from woz.context import APP_KEY, KEYS, scope_to
from woz.errors import ErrorKind, WozError


@web.middleware
async def api_auth(request: web.Request, handler: Any) -> web.StreamResponse:
    """Every `/v1/` request carries an app key: `Authorization: Bearer` or `x-api-key`;
    the key's study is the one the request works in."""
    if request.path.startswith("/v1/"):
        token = bearer_token(request.headers.get("Authorization")) or request.headers.get(
            "x-api-key"
        )
        if not token:
            raise WozError(
                ErrorKind.AUTHENTICATION,
                "No API key given: send 'Authorization: Bearer <app key>'.",
                code="missing_api_key",
            )
        info = await request.app[KEYS].verify(token, "app")
        if info is None:
            raise WozError(
                ErrorKind.AUTHENTICATION,
                "Incorrect API key provided. Create one with `woz keys create --role app`.",
                code="invalid_api_key",
            )
        if scope_to(request, info) is None:
            raise WozError(
                ErrorKind.AUTHENTICATION,
                f"This API key belongs to study {info.study_id!r}, which this server does not"
                " serve.",
                code="invalid_api_key",
            )
        request[APP_KEY] = info
        tokens = structlog.contextvars.bind_contextvars(app_key=info.id, study=info.study_id)
        try:
            authed: web.StreamResponse = await handler(request)
            return authed
        finally:
            structlog.contextvars.reset_contextvars(**tokens)
    response: web.StreamResponse = await handler(request)
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
    app.router.add_post("/v1/moderations", create_moderation)
    app.router.add_post("/v1/embeddings", create_embedding)
    app.router.add_get("/v1/models", list_models)
    app.router.add_get("/v1/models/{model:.+}", retrieve_model)


__all__ = ["api_auth", "api_errors", "setup_api"]
