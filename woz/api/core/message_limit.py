"""The most text one message may carry (`WOZ_MAX_MESSAGE_CHARS`), checked as each dialect
parses its messages, so that the error names the message in the app's own terms.

Text is what a person reads and what redaction scans: text parts and tool-call
arguments, not images, audio or files, which have the request body's limit.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from woz.errors import invalid_request
from woz.models.task import Message


def text_length(messages: Iterable[Message]) -> int:
    """Characters of text and tool-call arguments in `messages`."""
    return sum(
        sum(len(part.text or "") for part in message.content if part.type == "text")
        + sum(len(call.arguments) for call in message.tool_calls)
        for message in messages
    )


def check_length(length: int, param: str, limit: int | None) -> None:
    """A 400 naming `param` when `length` characters are more than `limit` allows."""
    if limit is not None and length > limit:
        raise invalid_request(
            f"'{param}' is too long: {length} characters, and at most {limit} are accepted "
            "per message.",
            param=param,
            code="string_above_max_length",
        )


def check_message(
    messages: Sequence[Message], param: str, limit: int | None, calls_param: str | None = None
) -> None:
    """`check_length` for the text of `messages`, the neutral form of one wire message;
    `calls_param` names the field instead when tool-call arguments hold most of it."""
    if limit is None:
        return
    length = text_length(messages)
    if length > limit and calls_param is not None:
        arguments = sum(len(call.arguments) for message in messages for call in message.tool_calls)
        param = calls_param if 2 * arguments > length else param
    check_length(length, param, limit)
