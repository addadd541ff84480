"""The OpenAI Chat Completions request, parsed into woz's neutral types.

Models accept unknown fields (clients pass `extra_body`), check what woz
relies on, and convert messages, tools, tool_choice and response_format into
the dialect-free `Message`, `ToolSpec`, `ToolChoice` and `ResponseFormat`.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from woz.api.core.fields import json_schema, obj, optional_string, string
from woz.api.core.message_limit import check_message
from woz.errors import invalid_request
from woz.models.task import (
    JSON_OBJECT_FORMAT,
    TEXT_FORMAT,
    TOOL_CHOICE_AUTO,
    ContentPart,
    Message,
    ResponseFormat,
    ToolCall,
    ToolChoice,
    ToolSpec,
)


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class FunctionDef(_Open):
    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")
    description: str | None = None
    parameters: dict[str, Any] = Field(default_factory=dict)
    strict: bool | None = None


class ToolDef(_Open):
    type: Literal["function"]
    function: FunctionDef


class JsonSchemaFormat(_Open):
    name: str = Field(min_length=1, max_length=64)
    description: str | None = None
    schema_: dict[str, Any] | None = Field(default=None, alias="schema")
    strict: bool | None = None


class ResponseFormatDef(_Open):
    type: Literal["text", "json_object", "json_schema"]
    json_schema: JsonSchemaFormat | None = None


class StreamOptions(_Open):
    include_usage: bool = False


class ChatMessage(_Open):
    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: str | list[dict[str, Any]] | None = None
    name: str | None = None
    tool_calls: list[dict[str, Any]] | None = None
    tool_call_id: str | None = None


class ChatCompletionRequest(_Open):
    model: str = Field(min_length=1)
    messages: list[ChatMessage] = Field(min_length=1)
    stream: bool = False
    stream_options: StreamOptions | None = None
    tools: list[ToolDef] | None = None
    tool_choice: str | dict[str, Any] | None = None
    parallel_tool_calls: bool = True
    response_format: ResponseFormatDef | None = None
    n: int = Field(default=1, ge=1)
    max_tokens: int | None = Field(default=None, ge=1)
    max_completion_tokens: int | None = Field(default=None, ge=1)
    user: str | None = None
    safety_identifier: str | None = None


def messages_of(request: ChatCompletionRequest, max_chars: int | None = None) -> list[Message]:
    """The conversation; a message with more than `max_chars` of text is a 400 naming it."""
    messages = [_message(m, f"messages[{i}]") for i, m in enumerate(request.messages)]
    for i, message in enumerate(messages):
        check_message([message], f"messages[{i}].content", max_chars, f"messages[{i}].tool_calls")
    return messages


def _message(message: ChatMessage, where: str) -> Message:
    role = {"developer": "system", "function": "tool"}.get(message.role, message.role)
    calls = [
        _tool_call(call, f"{where}.tool_calls[{i}]")
        for i, call in enumerate(message.tool_calls or [])
    ]
    return Message(
        role=role,
        content=_parts(message.content, f"{where}.content"),
        tool_calls=calls,
        tool_call_id=message.tool_call_id,
        name=message.name,
    )


def _parts(content: str | list[dict[str, Any]] | None, where: str) -> list[ContentPart]:
    if content is None:
        return []
    if isinstance(content, str):
        return [ContentPart(type="text", text=content)]
    return [_part(part, f"{where}[{i}]") for i, part in enumerate(content)]


def _part(part: dict[str, Any], where: str) -> ContentPart:
    kind = part.get("type")
    if kind in ("text", "refusal"):
        return ContentPart(type="text", text=string(part.get(kind), f"{where}.{kind}"))
    if kind == "image_url":
        image = obj(part.get("image_url"), f"{where}.image_url")
        return image_part(image.get("url"), f"{where}.image_url.url")
    if kind == "input_audio":
        audio = obj(part.get("input_audio", {}), f"{where}.input_audio")
        fmt = string(audio.get("format", "wav"), f"{where}.input_audio.format")
        data = string(audio.get("data", ""), f"{where}.input_audio.data")
        return ContentPart(type="audio", url=f"data:audio/{fmt};base64,{data}")
    if kind == "file":
        file = obj(part.get("file", {}), f"{where}.file")
        return ContentPart(
            type="file",
            url=optional_string(file.get("file_data"), f"{where}.file.file_data"),
            text=optional_string(file.get("filename"), f"{where}.file.filename"),
        )
    raise invalid_request(
        f"'{where}.type' {kind!r} is not a supported content part type.", param=f"{where}.type"
    )


def image_part(url: object, where: str) -> ContentPart:
    """An image given by an http(s) or `data:image/` URL; anything else is a 400 on `where`."""
    if not isinstance(url, str) or not url.startswith(("https://", "http://", "data:image/")):
        raise invalid_request(f"'{where}' must be an http(s) or data:image URL.", param=where)
    return ContentPart(type="image", url=url)


def _tool_call(call: dict[str, Any], where: str) -> ToolCall:
    function = obj(call.get("function"), f"{where}.function")
    name = function.get("name")
    if name is None:
        raise invalid_request(
            f"'{where}.function.name' is required.", param=f"{where}.function.name"
        )
    return ToolCall(
        id=optional_string(call.get("id"), f"{where}.id") or "",
        name=string(name, f"{where}.function.name"),
        arguments=string(function.get("arguments", "{}"), f"{where}.function.arguments"),
    )


def tools_of(request: ChatCompletionRequest) -> list[ToolSpec]:
    return [
        ToolSpec(
            name=t.function.name,
            description=t.function.description,
            parameters=json_schema(t.function.parameters, f"tools[{i}].function.parameters"),
        )
        for i, t in enumerate(request.tools or [])
    ]


def tool_choice_of(request: ChatCompletionRequest) -> ToolChoice:
    return tool_choice_from(
        request.tool_choice,
        {t.function.name for t in request.tools or []},
        name_at=("function", "name"),
        expected="'auto', 'none', 'required' or a function",
    )


def tool_choice_from(
    choice: Any,
    names: set[str],
    *,
    name_at: tuple[str, ...],
    expected: str,
) -> ToolChoice:
    """An OpenAI dialect's `tool_choice`: 'auto', 'none', 'required' or one function.

    The dialects differ only in where a function choice keeps its name (the keys
    `name_at`) and how their errors describe the choice (`expected`)."""
    if choice is None or choice == "auto":
        return TOOL_CHOICE_AUTO
    if choice in ("none", "required"):
        if choice == "required" and not names:
            raise invalid_request("tool_choice 'required' needs 'tools'.", param="tool_choice")
        return ToolChoice(mode=choice)
    if isinstance(choice, dict) and choice.get("type") == "function":
        where = "tool_choice"
        value: Any = choice
        for key in name_at:
            value = obj(value, where).get(key)
            where += f".{key}"
        name = optional_string(value, where)
        if name not in names:
            raise invalid_request(
                f"tool_choice names {name!r}, which is not one of the request's tools.",
                param=where,
            )
        return ToolChoice(mode="named", name=name)
    raise invalid_request(f"'tool_choice' must be {expected}.", param="tool_choice")


def response_format_of(request: ChatCompletionRequest) -> ResponseFormat:
    fmt = request.response_format
    if fmt is None or fmt.type == "text":
        return TEXT_FORMAT
    if fmt.type == "json_object":
        return JSON_OBJECT_FORMAT
    if fmt.json_schema is None:
        raise invalid_request(
            "'response_format.json_schema' is required for type json_schema.",
            param="response_format.json_schema",
        )
    return ResponseFormat(
        type="json_schema",
        name=fmt.json_schema.name,
        json_schema=json_schema(
            fmt.json_schema.schema_ or {}, "response_format.json_schema.schema"
        ),
        strict=bool(fmt.json_schema.strict),
    )
