"""Threading requests into conversations when the app does not say which.

Plain SDK clients resend the whole history each turn. After an answer, the
history plus that answer is remembered under a digest; the next request whose
messages start with that history (up to its last assistant turn) continues the
same conversation. An explicit `X-Woz-Conversation` always wins.
"""

from __future__ import annotations

import hashlib

from woz.bounded import BoundedMap
from woz.jsontext import dumps_bytes
from woz.models.task import Message


def _shape(message: Message) -> bytes:
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


class History:
    """A conversation's messages as a running digest.

    Digests of a history and of that history plus one more message come from one
    pass over the messages: apps resend the whole conversation every turn, and
    hashing it twice per request would cost more the longer it grows.
    """

    def __init__(self, scope: str) -> None:
        self._hasher = hashlib.sha256(scope.encode())

    def add(self, message: Message) -> None:
        self._hasher.update(_shape(message))

    def digest(self) -> str:
        return self._hasher.hexdigest()

    def digest_with(self, message: Message) -> str:
        """The digest of the history followed by `message` (the history is unchanged)."""
        hasher = self._hasher.copy()
        hasher.update(_shape(message))
        return hasher.hexdigest()


class ConversationIndex:
    """A bounded map from conversation histories to conversation ids."""

    def __init__(self, capacity: int = 100_000) -> None:
        self._known: BoundedMap[str, str] = BoundedMap(capacity)

    def follow(self, scope: str, messages: list[Message]) -> tuple[str | None, History]:
        """The conversation these messages continue (None if unknown), and their history.

        They continue a conversation when everything up to their last assistant
        turn is a history remembered with its answer.
        """
        last_assistant = max(
            (i for i, message in enumerate(messages) if message.role == "assistant"), default=-1
        )
        history = History(scope)
        found: str | None = None
        for i, message in enumerate(messages):
            history.add(message)
            if i == last_assistant:
                found = self._known.get(history.digest())
        return found, history

    def remember(self, history: History, answer: Message, conversation_id: str) -> None:
        """Record that `history` followed by `answer` belongs to `conversation_id`."""
        self._known.put(history.digest_with(answer), conversation_id)
