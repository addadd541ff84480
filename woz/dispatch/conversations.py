"""Threading requests into conversations when the app does not say which.

Plain SDK clients resend the whole history each turn. After an answer, the
history plus that answer is remembered under a digest (`woz.dispatch.docs.
continuation`); the next request whose messages, up to their last assistant
turn, give the same digest continues the same conversation. An explicit
`X-Woz-Conversation` always wins.
"""

from __future__ import annotations

import hashlib

from woz.jsontext import dumps_bytes
from woz.models.task import Message


def message_shape(message: Message) -> bytes:
    """What identifies a message in a history: role, text, media, tool calls."""
    return dumps_bytes(
        [
            message.role,
            message.text(),
            [part.url for part in message.content if part.url],
            [[call.name, call.arguments] for call in message.tool_calls],
            message.tool_call_id,
        ]
    )


def continues_and_history(scope: str, messages: list[Message]) -> tuple[str | None, str]:
    """The continuation digest these messages end with (the history up to and with
    their last assistant turn; None without one), and the digest of them all.

    Apps resend the whole conversation every turn: one pass over it serves both.
    """
    last_assistant = max(
        (i for i, message in enumerate(messages) if message.role == "assistant"), default=-1
    )
    hasher = hashlib.sha256(scope.encode())
    continues: str | None = None
    for i, message in enumerate(messages):
        shape = message_shape(message)
        if i == last_assistant:
            continues = hashlib.sha256(hasher.hexdigest().encode() + shape).hexdigest()
        hasher.update(shape)
    return continues, hasher.hexdigest()
