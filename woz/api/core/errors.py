"""Rendering errors in the caller's dialect, and the middleware that guarantees it.

Under `/v1/` nothing reaches a client but a well-formed error body of its own
API: a `WozError`, an aiohttp HTTP error (unknown path, wrong method, body too
large), or an unexpected exception (logged with its traceback, answered as a
plain 500 without one).
"""

from __future__ import annotations

import json
from typing import Any, Literal

import structlog
from aiohttp import web

from woz.api.unserved import lacks_v1, unserved, wrong_base_url
from woz.context import RUNTIME
from woz.errors import ErrorKind, WozError

log = structlog.get_logger(__name__)

Dialect = Literal["openai", "anthropic"]

_OPENAI_TYPES = {
    ErrorKind.INVALID_REQUEST: "invalid_request_error",
    ErrorKind.AUTHENTICATION: "authentication_error",
    ErrorKind.PERMISSION: "permission_error",
    ErrorKind.NOT_FOUND: "invalid_request_error",
    ErrorKind.CONFLICT: "invalid_request_error",
    ErrorKind.TOO_LARGE: "invalid_request_error",
    ErrorKind.RATE_LIMIT: "rate_limit_error",
    ErrorKind.OVERLOADED: "server_error",
    ErrorKind.TIMEOUT: "timeout_error",
    ErrorKind.UPSTREAM: "server_error",
    ErrorKind.INTERNAL: "server_error",
}
_ANTHROPIC_TYPES = {
    ErrorKind.INVALID_REQUEST: "invalid_request_error",
    ErrorKind.AUTHENTICATION: "authentication_error",
    ErrorKind.PERMISSION: "permission_error",
    ErrorKind.NOT_FOUND: "not_found_error",
    ErrorKind.CONFLICT: "invalid_request_error",
    ErrorKind.TOO_LARGE: "request_too_large",
    ErrorKind.RATE_LIMIT: "rate_limit_error",
    ErrorKind.OVERLOADED: "overloaded_error",
    ErrorKind.TIMEOUT: "timeout_error",
    ErrorKind.UPSTREAM: "api_error",
    ErrorKind.INTERNAL: "api_error",
}
_FROM_HTTP = {
    400: ErrorKind.INVALID_REQUEST,
    401: ErrorKind.AUTHENTICATION,
    403: ErrorKind.PERMISSION,
    404: ErrorKind.NOT_FOUND,
    405: ErrorKind.INVALID_REQUEST,
    409: ErrorKind.CONFLICT,
    413: ErrorKind.TOO_LARGE,
    429: ErrorKind.RATE_LIMIT,
}


# Anthropic's paths, and the same called without `/v1` (by a client whose base URL lacks it).
_ANTHROPIC_PATHS = ("/v1/messages", "/messages")


def dialect_of(request: web.Request) -> Dialect:
    """Anthropic for its paths and for clients that announce themselves; else OpenAI."""
    if request.path.startswith(_ANTHROPIC_PATHS) or "anthropic-version" in request.headers:
        return "anthropic"
    return "openai"


# What a client is told when no operator can take its request, by the study's deception
# design. Without deception, the developer trying their app learns what to do; under a
# deceptive design an app might show the message to a participant, so it says what a
# real model's API would, with no word of people. The `code` stays the same either way,
# so the app's developers still know what happened.
_PLAIN_MESSAGES = {
    "no_operator_online": (
        "No operator is online yet (woz): an operator opens the console and presses Ready, "
        "then try again."
    ),
}
_COVER_MESSAGES = {
    "no_operator_online": "The service is busy. Please try again in a moment.",
    "queue_full": "The service is busy. Please try again in a moment.",
    "answer_timeout": "The request timed out. Please try again.",
    "rate_limit_exceeded": "Too many requests at once. Please slow down and try again.",
    "shutting_down": "The server is restarting. Please try again in a moment.",
}
INTERNAL_MESSAGE = "The server had an error while processing your request."


def _deception(request: web.Request) -> str:
    """The deception design of the request's study; before the key has named a study,
    the most careful one (no word of humans)."""
    runtime = request.get(RUNTIME)
    return runtime.study.study.deception if runtime is not None else "concealed"


def as_client_sees(error: WozError, deception: str) -> WozError:
    """`error` as it is sent to a client of a study with this deception design: plain
    (saying what to do) without deception, with no word of humans under one."""
    messages = _PLAIN_MESSAGES if deception == "none" else _COVER_MESSAGES
    message = messages.get(error.code or "")
    if message is None:
        return error
    return WozError(
        error.kind,
        message,
        code=error.code,
        param=error.param,
        retry_after=error.retry_after,
        retryable=error.retryable,
    )


def error_body(error: WozError, dialect: Dialect) -> dict[str, Any]:
    if dialect == "anthropic":
        return {
            "type": "error",
            "error": {"type": _ANTHROPIC_TYPES[error.kind], "message": error.message},
        }
    return {
        "error": {
            "message": error.message,
            "type": _OPENAI_TYPES[error.kind],
            "param": error.param,
            "code": error.code,
        }
    }


def error_status(error: WozError, dialect: Dialect) -> int:
    if dialect == "anthropic" and error.kind is ErrorKind.OVERLOADED:
        return 529
    return error.status


def error_response(error: WozError, dialect: Dialect) -> web.Response:
    headers: dict[str, str] = {}
    if error.retry_after is not None:
        headers["Retry-After"] = str(error.retry_after)
    if error.retryable is not None:
        headers["x-should-retry"] = "true" if error.retryable else "false"
    return web.Response(
        status=error_status(error, dialect),
        text=json.dumps(error_body(error, dialect)),
        content_type="application/json",
        headers=headers,
    )


def _from_http(exc: web.HTTPException, request: web.Request) -> WozError:
    kind = _FROM_HTTP.get(exc.status, ErrorKind.INTERNAL)
    if exc.status == 404:
        return unserved(request)
    if exc.status == 405:
        return WozError(
            kind, f"{request.method} is not allowed on {request.path}.", code="method_not_allowed"
        )
    if exc.status == 413:
        return WozError(kind, "The request body is too large.", code="request_too_large")
    return WozError(kind, exc.reason or "Request failed.")


@web.middleware
async def api_errors(request: web.Request, handler: Any) -> web.StreamResponse:
    """Turn every failure under /v1/ into the dialect's error body, and an API path
    called without `/v1` into a 404 that says which base URL to use."""
    if not request.path.startswith("/v1/"):
        try:
            response: web.StreamResponse = await handler(request)
        except web.HTTPNotFound:
            if not lacks_v1(request.path):
                raise
            return error_response(wrong_base_url(request), dialect_of(request))
        return response
    dialect = dialect_of(request)
    try:
        response = await handler(request)
        return response
    except WozError as error:
        log.info("api.error", status=error.status, code=error.code, message=error.message)
        return error_response(as_client_sees(error, _deception(request)), dialect)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return error_response(_from_http(exc, request), dialect)
    except Exception:
        log.exception("api.unexpected_error")
        return error_response(WozError(ErrorKind.INTERNAL, INTERNAL_MESSAGE), dialect)
