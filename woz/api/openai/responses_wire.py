"""The OpenAI Responses request, parsed into woz's neutral types.

`input` is a string (one user message) or a list of items: messages (a role and
content as a string or parts), `function_call` items (the model's earlier
calls, joined to the assistant turn they belong to) and `function_call_output`
items (neutral `tool` messages). `instructions` become a leading system
message. Tools are the flat function shape; `text.format` asks for structured
output. Models accept unknown fields, as every woz dialect does.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from woz.api.core.fields import json_schema, obj, optional_string, string
from woz.api.core.message_limit import check_length, check_message
from woz.api.openai.wire import image_part, tool_choice_from
from woz.errors import invalid_request
from woz.models.task import (
    JSON_OBJECT_FORMAT,
    TEXT_FORMAT,
    ContentPart,
    Message,
    ResponseFormat,
    ToolCall,
    ToolChoice,
    ToolSpec,
)


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class FunctionToolDef(_Open):
    # Hosted tools (web search, file search, code interpreter, ...) run at OpenAI;
    # a human operator can only choose function calls, so only those are accepted.
    type: Literal["function"]
    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")
    description: str | None = None
    parameters: dict[str, Any] | None = None
    strict: bool | None = None


class TextFormatDef(_Open):
    type: Literal["text", "json_object", "json_schema"]
    name: str | None = None
    description: str | None = None
    schema_: dict[str, Any] | None = Field(default=None, alias="schema")
    strict: bool | None = None


class TextConfig(_Open):
    format: TextFormatDef | None = None


class ResponsesRequest(_Open):
    model: str = Field(min_length=1)
    input: str | list[dict[str, Any]] | None = None
    instructions: str | None = None
    tools: list[FunctionToolDef] | None = None
    tool_choice: str | dict[str, Any] | None = None
    parallel_tool_calls: bool | None = None
    text: TextConfig | None = None
    previous_response_id: str | None = None
    stream: bool = False
    store: bool | None = None
    background: bool = False
    max_output_tokens: int | None = Field(default=None, ge=1)
    metadata: dict[str, str] | None = None
    temperature: float | None = None
    top_p: float | None = None
    user: str | None = None
    safety_identifier: str | None = None


def instructions_of(request: ResponsesRequest, max_chars: int | None = None) -> list[Message]:
    """`instructions` as a system message. They apply to this response only: a
    follow-up through `previous_response_id` does not inherit them."""
    if not request.instructions:
        return []
    check_length(len(request.instructions), "instructions", max_chars)
    return [Message(role="system", content=[ContentPart(type="text", text=request.instructions)])]


def input_of(request: ResponsesRequest, max_chars: int | None = None) -> list[Message]:
    """The request's new conversation items as neutral messages, in order.

    An item with more than `max_chars` of text is a 400 naming it."""
    if request.input is None:
        return []
    if isinstance(request.input, str):
        check_length(len(request.input), "input", max_chars)
        return [Message(role="user", content=[ContentPart(type="text", text=request.input)])]
    messages: list[Message] = []
    for i, item in enumerate(request.input):
        where = f"input[{i}]"
        kind = item.get("type", "message")
        if kind == "message":
            messages.append(_message(item, where))
            check_message(messages[-1:], f"{where}.content", max_chars)
        elif kind == "function_call":
            call = _function_call(item, where)
            check_length(len(call.arguments), f"{where}.arguments", max_chars)
            _join_call(messages, call)
        elif kind == "function_call_output":
            messages.append(_function_output(item, where))
            check_message(messages[-1:], f"{where}.output", max_chars)
        elif kind == "reasoning":
            continue  # a model's reasoning replayed by the app: nothing for a human
        else:
            raise invalid_request(
                f"'{where}.type' {kind!r} is not a supported input item type.",
                param=f"{where}.type",
            )
    return messages


def _message(item: dict[str, Any], where: str) -> Message:
    role = item.get("role")
    if role not in ("user", "assistant", "system", "developer"):
        raise invalid_request(
            f"'{where}.role' must be 'user', 'assistant', 'system' or 'developer'.",
            param=f"{where}.role",
        )
    content = item.get("content")
    if isinstance(content, str):
        parts = [ContentPart(type="text", text=content)]
    elif isinstance(content, list):
        parts = [_part(part, f"{where}.content[{i}]") for i, part in enumerate(content)]
    else:
        raise invalid_request(
            f"'{where}.content' must be a string or a list of parts.", param=f"{where}.content"
        )
    return Message(role="system" if role == "developer" else role, content=parts)


def _part(value: Any, where: str) -> ContentPart:
    part = obj(value, where)
    kind = part.get("type")
    if kind in ("input_text", "output_text"):
        return ContentPart(type="text", text=string(part.get("text"), f"{where}.text"))
    if kind == "refusal":
        return ContentPart(type="text", text=string(part.get("refusal"), f"{where}.refusal"))
    if kind == "input_image":
        if part.get("image_url") is None and part.get("file_id"):
            raise invalid_request(
                f"'{where}.file_id': woz has no file storage; send 'image_url'.",
                param=f"{where}.file_id",
            )
        return image_part(part.get("image_url"), f"{where}.image_url")
    if kind == "input_file":
        key = "file_data" if part.get("file_data") else "file_url"
        if not part.get(key):
            raise invalid_request(
                f"'{where}' needs 'file_data' or 'file_url'; woz has no file storage.",
                param=f"{where}.file_data",
            )
        url = string(part[key], f"{where}.{key}")
        filename = optional_string(part.get("filename"), f"{where}.filename")
        return ContentPart(type="file", url=url, text=filename)
    raise invalid_request(
        f"'{where}.type' {kind!r} is not a supported content part type.", param=f"{where}.type"
    )


def _function_call(item: dict[str, Any], where: str) -> ToolCall:
    return ToolCall(
        id=string(item.get("call_id"), f"{where}.call_id"),
        name=string(item.get("name"), f"{where}.name"),
        arguments=string(item.get("arguments", "{}"), f"{where}.arguments"),
    )


def _join_call(messages: list[Message], call: ToolCall) -> None:
    """Calls that follow an assistant turn belong to it, as in the answer they came from."""
    if messages and messages[-1].role == "assistant":
        messages[-1].tool_calls.append(call)
    else:
        messages.append(Message(role="assistant", tool_calls=[call]))


def _function_output(item: dict[str, Any], where: str) -> Message:
    call_id = string(item.get("call_id"), f"{where}.call_id")
    output = item.get("output")
    if isinstance(output, str):
        parts = [ContentPart(type="text", text=output)]
    elif isinstance(output, list):
        parts = [_part(part, f"{where}.output[{i}]") for i, part in enumerate(output)]
    else:
        raise invalid_request(
            f"'{where}.output' must be a string or a list of parts.", param=f"{where}.output"
        )
    return Message(role="tool", content=parts, tool_call_id=call_id)


def tools_of(request: ResponsesRequest) -> list[ToolSpec]:
    return [
        ToolSpec(
            name=t.name,
            description=t.description,
            parameters=json_schema(t.parameters or {}, f"tools[{i}].parameters"),
        )
        for i, t in enumerate(request.tools or [])
    ]


def tool_choice_of(request: ResponsesRequest) -> ToolChoice:
    return tool_choice_from(
        request.tool_choice,
        {t.name for t in request.tools or []},
        name_at=("name",),
        expected="'auto', 'none', 'required' or {type: 'function', name}",
    )


def response_format_of(request: ResponsesRequest) -> ResponseFormat:
    fmt = request.text.format if request.text else None
    if fmt is None or fmt.type == "text":
        return TEXT_FORMAT
    if fmt.type == "json_object":
        return JSON_OBJECT_FORMAT
    if not fmt.name or fmt.schema_ is None:
        raise invalid_request(
            "'text.format' of type json_schema needs 'name' and 'schema'.", param="text.format"
        )
    return ResponseFormat(
        type="json_schema",
        name=fmt.name,
        json_schema=json_schema(fmt.schema_, "text.format.schema"),
        strict=bool(fmt.strict),
    )


def text_part(text: str) -> dict[str, Any]:
    return {"type": "output_text", "text": text, "annotations": [], "logprobs": []}


def message_item(item_id: str, text: str | None, status: str) -> dict[str, Any]:
    """The assistant's message; `text=None` while it is still being streamed."""
    return {
        "type": "message",
        "id": item_id,
        "status": status,
        "role": "assistant",
        "content": [] if text is None else [text_part(text)],
    }


def call_item(call: ToolCall, item_id: str, arguments: str, status: str) -> dict[str, Any]:
    return {
        "type": "function_call",
        "id": item_id,
        "call_id": call.id,
        "name": call.name,
        "arguments": arguments,
        "status": status,
    }
