"""Anthropic Messages requests become neutral messages, tools and tool choices."""

from __future__ import annotations

from typing import Any

import pytest

from woz.api.anthropic.wire import (
    MessagesRequest,
    anthropic_id,
    messages_of,
    neutral_id,
    parallel_tool_calls_of,
    tool_choice_of,
)
from woz.errors import WozError

TOOL = {"name": "lookup", "input_schema": {"type": "object"}}


def request(**fields: Any) -> MessagesRequest:
    fields.setdefault("model", "wizard")
    fields.setdefault("max_tokens", 16)
    fields.setdefault("messages", [{"role": "user", "content": "hi"}])
    return MessagesRequest.model_validate(fields)


def test_tool_ids_map_both_ways() -> None:
    """woz's call_ ids read as toolu_ ids and come back unchanged; foreign ids are kept."""
    assert anthropic_id("call_abc") == "toolu_abc"
    assert neutral_id(anthropic_id("call_abc")) == "call_abc"
    assert anthropic_id("toolu_01X") == "toolu_01X"
    assert neutral_id("other-id") == "other-id"


def test_system_blocks_become_one_leading_system_message() -> None:
    """A list of system text blocks is joined into the first message."""
    system = [{"type": "text", "text": "One."}, {"type": "text", "text": "Two."}]
    messages = messages_of(request(system=system))
    assert [m.role for m in messages] == ["system", "user"]
    assert messages[0].text() == "One.\n\nTwo."


def test_tool_use_and_tool_result_become_neutral_turns() -> None:
    """tool_use is an assistant tool call; each tool_result its own tool message, text after."""
    turns = [
        {"role": "user", "content": "Look it up"},
        {
            "role": "assistant",
            "content": [
                {"type": "thinking", "thinking": "...", "signature": "s"},
                {"type": "tool_use", "id": "toolu_1", "name": "lookup", "input": {"q": "x"}},
            ],
        },
        {
            "role": "user",
            "content": [
                {
                    "type": "tool_result",
                    "tool_use_id": "toolu_1",
                    "content": [{"type": "text", "text": "found"}],
                },
                {"type": "text", "text": "Thanks"},
            ],
        },
    ]
    messages = messages_of(request(messages=turns))
    assert [m.role for m in messages] == ["user", "assistant", "tool", "user"]
    [call] = messages[1].tool_calls
    assert (call.id, call.name, call.arguments) == ("call_1", "lookup", '{"q": "x"}')
    assert messages[1].content == []
    assert messages[2].tool_call_id == "call_1" and messages[2].text() == "found"
    assert messages[3].text() == "Thanks"


def test_tool_choice_modes() -> None:
    """auto and none as they are; any requires a call; tool names one."""
    assert tool_choice_of(request(tools=[TOOL])).mode == "auto"
    assert tool_choice_of(request(tools=[TOOL], tool_choice={"type": "none"})).mode == "none"
    assert tool_choice_of(request(tools=[TOOL], tool_choice={"type": "any"})).mode == "required"
    named = tool_choice_of(request(tools=[TOOL], tool_choice={"type": "tool", "name": "lookup"}))
    assert (named.mode, named.name) == ("named", "lookup")
    serial = request(tools=[TOOL], tool_choice={"type": "auto", "disable_parallel_tool_use": True})
    assert parallel_tool_calls_of(serial) is False


def test_tool_choice_naming_an_unknown_tool_is_refused() -> None:
    with pytest.raises(WozError) as caught:
        tool_choice_of(request(tools=[TOOL], tool_choice={"type": "tool", "name": "nope"}))
    assert caught.value.param == "tool_choice.name"


def test_a_bad_image_source_names_its_field() -> None:
    """An image whose source is not base64 or a URL is a 400 on that field."""
    image = {"type": "image", "source": {"type": "file", "file_id": "f"}}
    with pytest.raises(WozError) as caught:
        messages_of(request(messages=[{"role": "user", "content": [image]}]))
    assert caught.value.param == "messages[0].content[0].source.type"
