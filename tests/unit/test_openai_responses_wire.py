"""OpenAI Responses requests become neutral messages, tools and formats."""

from __future__ import annotations

from typing import Any

import pytest

from woz.api.openai.responses_wire import (
    ResponsesRequest,
    input_of,
    instructions_of,
    response_format_of,
    tool_choice_of,
)
from woz.errors import WozError

TOOL = {"type": "function", "name": "lookup", "parameters": {"type": "object"}}


def request(**fields: Any) -> ResponsesRequest:
    fields.setdefault("model", "wizard")
    return ResponsesRequest.model_validate(fields)


def test_string_input_is_one_user_message_after_the_instructions() -> None:
    wire = request(input="hi", instructions="Be kind.")
    assert [m.role for m in instructions_of(wire)] == ["system"]
    [message] = input_of(wire)
    assert (message.role, message.text()) == ("user", "hi")


def test_items_become_neutral_turns() -> None:
    """developer is system; function_call joins the assistant turn before it; outputs are tool."""
    items = [
        {"role": "developer", "content": "Rules."},
        {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "Q"}]},
        {"type": "reasoning", "id": "rs_1", "summary": []},
        {
            "type": "message",
            "role": "assistant",
            "content": [{"type": "output_text", "text": "Let me look.", "annotations": []}],
        },
        {"type": "function_call", "call_id": "call_1", "name": "lookup", "arguments": "{}"},
        {"type": "function_call", "call_id": "call_2", "name": "lookup", "arguments": "{}"},
        {"type": "function_call_output", "call_id": "call_1", "output": "one"},
        {"type": "function_call_output", "call_id": "call_2", "output": "two"},
    ]
    messages = input_of(request(input=items))
    assert [m.role for m in messages] == ["system", "user", "assistant", "tool", "tool"]
    assert messages[2].text() == "Let me look."
    assert [c.id for c in messages[2].tool_calls] == ["call_1", "call_2"]
    assert [(m.tool_call_id, m.text()) for m in messages[3:]] == [
        ("call_1", "one"),
        ("call_2", "two"),
    ]


def test_images_by_url_and_refused_file_ids() -> None:
    """input_image by URL is an image part; by file id (no file storage here) a 400."""
    image = {"type": "input_image", "image_url": "https://example.com/a.png", "detail": "auto"}
    [message] = input_of(request(input=[{"role": "user", "content": [image]}]))
    assert message.content[0].url == "https://example.com/a.png"
    by_id = {"type": "input_image", "file_id": "file_1", "detail": "auto"}
    with pytest.raises(WozError) as caught:
        input_of(request(input=[{"role": "user", "content": [by_id]}]))
    assert caught.value.param == "input[0].content[0].file_id"


def test_unsupported_items_name_their_type() -> None:
    with pytest.raises(WozError) as caught:
        input_of(request(input=[{"type": "item_reference", "id": "msg_1"}]))
    assert caught.value.param == "input[0].type"


def test_tool_choice_shapes() -> None:
    assert tool_choice_of(request(tools=[TOOL], tool_choice="required")).mode == "required"
    named = tool_choice_of(
        request(tools=[TOOL], tool_choice={"type": "function", "name": "lookup"})
    )
    assert (named.mode, named.name) == ("named", "lookup")
    with pytest.raises(WozError):
        tool_choice_of(request(tool_choice="required"))


def test_text_format_json_schema_is_flat() -> None:
    schema = {"type": "object", "properties": {"a": {"type": "string"}}}
    fmt = {"type": "json_schema", "name": "thing", "schema": schema, "strict": True}
    result = response_format_of(request(text={"format": fmt}))
    assert (result.type, result.name, result.json_schema, result.strict) == (
        "json_schema",
        "thing",
        schema,
        True,
    )
    with pytest.raises(WozError):
        response_format_of(request(text={"format": {"type": "json_schema"}}))
