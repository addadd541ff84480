"""Live mode sends only the words of a draft that can no longer change."""

from __future__ import annotations

from woz.api.core.exchange import stable_prefix
from woz.models.task import Answer, ToolCall


def test_stable_prefix_ends_at_the_last_word_boundary() -> None:
    assert stable_prefix("Hello wor") == "Hello "
    assert stable_prefix("Hello world,\nhow") == "Hello world,\n"
    assert stable_prefix("Hello") == ""


def test_an_answer_continues_its_conversation_as_an_assistant_turn() -> None:
    """Text and tool calls become one assistant message; no text means no text part."""
    call = ToolCall(name="lookup", arguments="{}")
    message = Answer(content="Checking.", tool_calls=[call]).as_message()
    assert (message.role, message.text(), message.tool_calls) == ("assistant", "Checking.", [call])
    assert Answer(tool_calls=[call]).as_message().content == []
