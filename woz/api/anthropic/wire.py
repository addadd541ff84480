"""The Anthropic Messages request, parsed into woz's neutral types.

Models accept unknown fields (clients pass `extra_body`, `cache_control`,
`thinking`, ...), check what woz relies on, and convert `system`, `messages`,
`tools` and `tool_choice` into the dialect-free `Message`, `ToolSpec` and
`ToolChoice`. A `tool_result` block becomes a neutral `tool` message, as in the
OpenAI dialects, so the operator console and the records see one shape.

Tool-use ids: woz's own tool calls are `call_...`; Anthropic clients see them
as `toolu_...` (`anthropic_id`) and send them back that way (`neutral_id`), so
a conversation threads the same whichever dialect the app speaks.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from woz.api.core.fields import json_schema, obj, optional_string, string
from woz.api.core.message_limit import check_message
from woz.errors import invalid_request
from woz.models.task import (
    TOOL_CHOICE_AUTO,
    TOOL_CHOICE_NONE,
    TOOL_CHOICE_REQUIRED,
    ContentPart,
    Message,
    ToolCall,
    ToolChoice,
    ToolSpec,
)

_NEUTRAL_PREFIX = "call_"
_ANTHROPIC_PREFIX = "toolu_"


def anthropic_id(call_id: str) -> str:
    """A neutral tool-call id as Anthropic clients expect it: `call_x` is `toolu_x`."""
    if call_id.startswith(_ANTHROPIC_PREFIX):
        return call_id
    return _ANTHROPIC_PREFIX + call_id.removeprefix(_NEUTRAL_PREFIX)


def neutral_id(tool_use_id: str) -> str:
    """The inverse of `anthropic_id`: `toolu_x` is `call_x`; other ids are kept."""
    if tool_use_id.startswith(_ANTHROPIC_PREFIX):
        return _NEUTRAL_PREFIX + tool_use_id.removeprefix(_ANTHROPIC_PREFIX)
    return tool_use_id


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class TextBlock(_Open):
    type: Literal["text"]
    text: str


class ToolDef(_Open):
    # Server tools (web search, bash, ...) have a versioned `type` and run at
    # Anthropic; a human cannot run them, so only custom tools are accepted.
    type: Literal["custom"] | None = None
    name: str = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_-]+$")
    description: str | None = None
    input_schema: dict[str, Any]


class ToolChoiceDef(_Open):
    type: Literal["auto", "any", "tool", "none"]
    name: str | None = None
    disable_parallel_tool_use: bool = False


class Metadata(_Open):
    user_id: str | None = None


class InputMessage(_Open):
    role: Literal["user", "assistant"]
    content: str | list[dict[str, Any]]


class MessagesRequest(_Open):
    model: str = Field(min_length=1)
    max_tokens: int = Field(ge=1)
    messages: list[InputMessage] = Field(min_length=1)
    system: str | list[TextBlock] | None = None
    tools: list[ToolDef] | None = None
    tool_choice: ToolChoiceDef | None = None
    metadata: Metadata | None = None
    stream: bool = False


class TokenCountRequest(MessagesRequest):
    """`/v1/messages/count_tokens` takes a message request without `max_tokens`."""

    max_tokens: int | None = Field(default=None, ge=1)  # type: ignore[assignment]


def messages_of(request: MessagesRequest, max_chars: int | None = None) -> list[Message]:
    """The conversation: the system prompt first, then each turn, tool results apart.

    A system prompt or turn with more than `max_chars` of text is a 400 naming it."""
    messages: list[Message] = []
    system = request.system
    if isinstance(system, list):
        system = "\n\n".join(block.text for block in system)
    if system:
        messages.append(Message(role="system", content=[ContentPart(type="text", text=system)]))
        check_message(messages, "system", max_chars)
    for i, message in enumerate(request.messages):
        turn = _turn(message, f"messages[{i}]")
        check_message(turn, f"messages[{i}].content", max_chars)
        messages.extend(turn)
    return messages


def _turn(message: InputMessage, where: str) -> list[Message]:
    """One Anthropic turn as neutral messages: its tool results, then the rest."""
    if isinstance(message.content, str):
        return [
            Message(role=message.role, content=[ContentPart(type="text", text=message.content)])
        ]
    results: list[Message] = []
    parts: list[ContentPart] = []
    calls: list[ToolCall] = []
    for i, block in enumerate(message.content):
        at = f"{where}.content[{i}]"
        kind = block.get("type")
        if kind == "tool_result" and message.role == "user":
            results.append(_tool_result(block, at))
        elif kind == "tool_use" and message.role == "assistant":
            calls.append(_tool_use(block, at))
        elif kind in ("thinking", "redacted_thinking") and message.role == "assistant":
            continue  # a model's private reasoning replayed by the app: nothing for a human
        else:
            parts.append(_part(block, at))
    if parts or calls or not results:
        results.append(Message(role=message.role, content=parts, tool_calls=calls))
    return results


def _part(value: Any, where: str) -> ContentPart:
    block = obj(value, where)
    kind = block.get("type")
    if kind == "text":
        return ContentPart(type="text", text=string(block.get("text"), f"{where}.text"))
    if kind == "image":
        return ContentPart(type="image", url=_source_url(block, where, "image/"))
    if kind == "document":
        source = block.get("source")
        if isinstance(source, dict) and source.get("type") == "text":
            return ContentPart(type="text", text=string(source.get("data"), f"{where}.source.data"))
        url = _source_url(block, where, "")
        return ContentPart(
            type="file", url=url, text=optional_string(block.get("title"), f"{where}.title")
        )
    raise invalid_request(
        f"'{where}.type' {kind!r} is not a supported content block type here.",
        param=f"{where}.type",
    )


def _source_url(block: dict[str, Any], where: str, media_prefix: str) -> str:
    """An image or document source as a URL: https as given, base64 as a data: URL."""
    source = obj(block.get("source"), f"{where}.source")
    kind = source.get("type")
    if kind == "base64":
        media_type = string(source.get("media_type"), f"{where}.source.media_type")
        if not media_type.startswith(media_prefix):
            raise invalid_request(
                f"'{where}.source.media_type' {media_type!r} is not a {media_prefix}* type.",
                param=f"{where}.source.media_type",
            )
        data = string(source.get("data"), f"{where}.source.data")
        return f"data:{media_type};base64,{data}"
    if kind == "url":
        url = string(source.get("url"), f"{where}.source.url")
        if not url.startswith(("https://", "http://")):
            raise invalid_request(
                f"'{where}.source.url' must be an http(s) URL.", param=f"{where}.source.url"
            )
        return url
    raise invalid_request(
        f"'{where}.source.type' must be 'base64' or 'url'.", param=f"{where}.source.type"
    )


def _tool_use(block: dict[str, Any], where: str) -> ToolCall:
    name = string(block.get("name"), f"{where}.name")
    arguments = obj(block.get("input", {}), f"{where}.input")
    return ToolCall(
        id=neutral_id(string(block.get("id"), f"{where}.id")),
        name=name,
        arguments=json.dumps(arguments, ensure_ascii=False),
    )


def _tool_result(block: dict[str, Any], where: str) -> Message:
    tool_use_id = string(block.get("tool_use_id"), f"{where}.tool_use_id")
    content = block.get("content", "")
    if isinstance(content, str):
        parts = [ContentPart(type="text", text=content)] if content else []
    elif isinstance(content, list):
        parts = [_part(inner, f"{where}.content[{i}]") for i, inner in enumerate(content)]
    else:
        raise invalid_request(
            f"'{where}.content' must be a string or a list of blocks.", param=f"{where}.content"
        )
    return Message(role="tool", content=parts, tool_call_id=neutral_id(tool_use_id))


def tools_of(request: MessagesRequest) -> list[ToolSpec]:
    return [
        ToolSpec(
            name=t.name,
            description=t.description,
            parameters=json_schema(t.input_schema, f"tools[{i}].input_schema"),
        )
        for i, t in enumerate(request.tools or [])
    ]


def tool_choice_of(request: MessagesRequest) -> ToolChoice:
    """`auto`, `none`; `any` requires some tool call, `tool` one named tool."""
    choice = request.tool_choice
    names = {t.name for t in request.tools or []}
    if choice is None or choice.type == "auto":
        return TOOL_CHOICE_AUTO
    if choice.type == "none":
        return TOOL_CHOICE_NONE
    if not names:
        raise invalid_request(f"tool_choice '{choice.type}' needs 'tools'.", param="tool_choice")
    if choice.type == "any":
        return TOOL_CHOICE_REQUIRED
    if choice.name not in names:
        raise invalid_request(
            f"tool_choice names {choice.name!r}, which is not one of the request's tools.",
            param="tool_choice.name",
        )
    return ToolChoice(mode="named", name=choice.name)


def parallel_tool_calls_of(request: MessagesRequest) -> bool:
    return not (request.tool_choice and request.tool_choice.disable_parallel_tool_use)
