"""Threading requests into conversations when the app does not say which.

Plain SDK clients resend the whole history each turn. After an answer, the
history plus that answer is remembered under a digest; the next request whose
messages start with that history (up to its last assistant turn) continues the
same conversation. An explicit `X-Woz-Conversation` always wins.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict

from woz.jsontext import dumps_bytes
from woz.models.task import Message, new_id


def _digest(scope: str, messages: list[Message]) -> str:
    hasher = hashlib.sha256(scope.encode())
    for message in messages:
        shape = [
            message.role,
            message.text(),
            [part.url for part in message.content if part.url],
            [[call.name, call.arguments] for call in message.tool_calls],
            message.tool_call_id,
        ]
        hasher.update(dumps_bytes(shape))
    return hasher.hexdigest()


class ConversationIndex:
    """A bounded map from conversation histories to conversation ids."""

    def __init__(self, capacity: int = 100_000) -> None:
        self._capacity = capacity
        self._known: OrderedDict[str, str] = OrderedDict()

    def resolve(self, scope: str, messages: list[Message]) -> str:
        """The conversation these messages continue, or a new id."""
        last_assistant = max(
            (i for i, message in enumerate(messages) if message.role == "assistant"), default=-1
        )
        if last_assistant >= 0:
            key = _digest(scope, messages[: last_assistant + 1])
            found = self._known.get(key)
            if found is not None:
                self._known.move_to_end(key)
                return found
        return new_id("conv_")

    def remember(self, scope: str, history: list[Message], conversation_id: str) -> None:
        """Record that `history` (ending with the answer) belongs to `conversation_id`."""
        key = _digest(scope, history)
        self._known[key] = conversation_id
        self._known.move_to_end(key)
        while len(self._known) > self._capacity:
            self._known.popitem(last=False)
