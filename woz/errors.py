"""Errors that reach API callers, independent of any wire format.

A facade raises these; `woz.api.core.errors` renders them in the caller's dialect
(OpenAI's or Anthropic's error body and status), so a handler never builds an
error response by hand.
"""

from __future__ import annotations

from enum import StrEnum


class ErrorKind(StrEnum):
    INVALID_REQUEST = "invalid_request"
    AUTHENTICATION = "authentication"
    PERMISSION = "permission"
    NOT_FOUND = "not_found"
    CONFLICT = "conflict"
    TOO_LARGE = "too_large"
    RATE_LIMIT = "rate_limit"
    OVERLOADED = "overloaded"
    TIMEOUT = "timeout"
    UPSTREAM = "upstream"
    INTERNAL = "internal"


_STATUS = {
    ErrorKind.INVALID_REQUEST: 400,
    ErrorKind.AUTHENTICATION: 401,
    ErrorKind.PERMISSION: 403,
    ErrorKind.NOT_FOUND: 404,
    ErrorKind.CONFLICT: 409,
    ErrorKind.TOO_LARGE: 413,
    ErrorKind.RATE_LIMIT: 429,
    ErrorKind.OVERLOADED: 503,
    ErrorKind.TIMEOUT: 504,
    ErrorKind.UPSTREAM: 502,
    ErrorKind.INTERNAL: 500,
}


class WozError(Exception):
    """An error for the API caller.

    `code` is a stable machine-readable string (such as `model_not_found`),
    `param` the request field at fault, `retry_after` seconds for overload,
    `retryable` False tells SDKs not to retry (a 504 from an expired task).
    """

    def __init__(
        self,
        kind: ErrorKind,
        message: str,
        *,
        code: str | None = None,
        param: str | None = None,
        retry_after: int | None = None,
        retryable: bool | None = None,
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.code = code
        self.param = param
        self.retry_after = retry_after
        self.retryable = retryable

    @property
    def status(self) -> int:
        return _STATUS[self.kind]


def invalid_request(message: str, *, param: str | None = None, code: str | None = None) -> WozError:
    return WozError(ErrorKind.INVALID_REQUEST, message, param=param, code=code)


class Unavailable(WozError):
    """No operator can take the task now (none online, or the queue is full)."""

    def __init__(self, message: str, *, code: str, retry_after: int) -> None:
        super().__init__(ErrorKind.OVERLOADED, message, code=code, retry_after=retry_after)


class TaskExpired(WozError):
    """No human answered before the study's answer timeout."""

    def __init__(self, message: str = "No operator answered in time.") -> None:
        super().__init__(ErrorKind.TIMEOUT, message, code="answer_timeout", retryable=False)
