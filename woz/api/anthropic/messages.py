"""`POST /v1/messages`: the Anthropic Messages facade.

Streaming follows WIRE.md: every frame is a named event. `message_start` (empty
content, the input token count) is sent at once and `ping` events keep the
connection alive while a human thinks; then, per content block,
`content_block_start`, `content_block_delta` (`text_delta` paced like a model,
or `input_json_delta` pieces of a tool call's input), `content_block_stop`;
then `message_delta` (stop reason, output tokens) and `message_stop`. An error
after the stream began is an `error` event with Anthropic's error body.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from woz.api.anthropic.wire import (
    MessagesRequest,
    TokenCountRequest,
    anthropic_id,
    messages_of,
    parallel_tool_calls_of,
    tool_choice_of,
    tools_of,
)
from woz.api.core.errors import error_body
from woz.api.core.exchange import Exchange
from woz.api.core.fields import parse_body
from woz.api.core.intake import find_persona, intake, read_json
from woz.api.core.pacing import input_tokens, output_tokens
from woz.api.core.sse import EventStream
from woz.context import SETTINGS, runtime_of
from woz.dispatch.base import TaskHandle
from woz.errors import WozError
from woz.jsontext import json_response
from woz.models.task import Answer, Task, ToolCall, new_id

STOP_REASONS = {
    "stop": "end_turn",
    "tool_calls": "tool_use",
    "length": "max_tokens",
    "content_filter": "refusal",
}


async def create_message(request: web.Request) -> web.StreamResponse:
    body, raw = await read_json(request)
    wire = parse_body(MessagesRequest, body)
    persona = find_persona(request, wire.model)
    facts = intake(request, raw, wire.metadata.user_id if wire.metadata else None)
    task = Task(
        study_id=runtime_of(request).study.id,
        persona=persona.id,
        api="anthropic.messages",
        messages=messages_of(wire, request.app[SETTINGS].max_message_chars),
        tools=tools_of(wire),
        tool_choice=tool_choice_of(wire),
        parallel_tool_calls=parallel_tool_calls_of(wire),
        stream=wire.stream,
        live=persona.live and wire.stream,
        max_tokens=wire.max_tokens,
        request={k: v for k, v in body.items() if k not in ("messages", "tools", "system")},
        **facts.task_fields(),
    )
    model = wire.model
    # A request waiting for a human holds only its task, not the parsed body too.
    del body, raw, wire, facts
    handle = await runtime_of(request).dispatcher.submit(task)
    del task  # admission may have made a redacted copy: only the handle's task lives on
    return await _Reply(request, handle, model).run()


async def count_message_tokens(request: web.Request) -> web.StreamResponse:
    """`POST /v1/messages/count_tokens`: the prompt's size, estimated as in `usage`.

    No operator is involved: apps ask before sending, to fit a context window.
    """
    body, _ = await read_json(request)
    wire = parse_body(TokenCountRequest, body)
    find_persona(request, wire.model)
    return json_response({"input_tokens": input_tokens(messages_of(wire))})


class _Reply(Exchange):
    """One Anthropic message, streaming or not; the lifecycle is `Exchange`'s."""

    def __init__(self, request: web.Request, handle: TaskHandle, model: str) -> None:
        super().__init__(request, handle)
        self.model = model
        self.id = new_id("msg_", 12)
        self.blocks = 0  # content blocks started so far; the next one's index
        self.text_open = False

    # -- plain JSON ------------------------------------------------------------

    def body(self, answer: Answer) -> dict[str, Any]:
        content: list[dict[str, Any]] = []
        if answer.content:
            content.append({"type": "text", "text": answer.content})
        content.extend(_tool_use(call, json.loads(call.arguments)) for call in answer.tool_calls)
        message = self._message(content, STOP_REASONS[answer.finish_reason])
        message["usage"]["output_tokens"] = output_tokens(answer)
        return message

    def _message(self, content: list[dict[str, Any]], stop_reason: str | None) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": "message",
            "role": "assistant",
            "model": self.model,
            "content": content,
            "stop_reason": stop_reason,
            "stop_sequence": None,
            "usage": {
                "input_tokens": input_tokens(self.task.messages),
                "output_tokens": 0,
                "cache_creation_input_tokens": 0,
                "cache_read_input_tokens": 0,
                "service_tier": "standard",
            },
        }

    # -- events ----------------------------------------------------------------

    async def stream_start(self, events: EventStream) -> None:
        message = self._message([], None)
        await events.event("message_start", {"type": "message_start", "message": message})

    async def stream_keepalive(self, events: EventStream) -> None:
        # Anthropic's own keep-alive; its SDKs skip it (an SSE comment would do as well).
        await events.event("ping", {"type": "ping"})

    async def stream_text(self, events: EventStream, piece: str) -> None:
        if not self.text_open:
            await self._block_start(events, {"type": "text", "text": ""})
            self.text_open = True
        await self._block_delta(events, {"type": "text_delta", "text": piece})

    async def stream_answer(self, events: EventStream, answer: Answer) -> None:
        async for piece in self.paced(self.unsent_text(answer)):
            await self.stream_text(events, piece)
        if self.text_open:
            await self._block_stop(events)
        for call in answer.tool_calls:
            await self._block_start(events, _tool_use(call, {}))
            async for piece in self.paced(call.arguments):
                await self._block_delta(events, {"type": "input_json_delta", "partial_json": piece})
            await self._block_stop(events)
        delta = {"stop_reason": STOP_REASONS[answer.finish_reason], "stop_sequence": None}
        usage = {"output_tokens": output_tokens(answer)}
        await events.event(
            "message_delta", {"type": "message_delta", "delta": delta, "usage": usage}
        )
        await events.event("message_stop", {"type": "message_stop"})

    async def stream_error(self, events: EventStream, error: WozError) -> None:
        await events.event("error", error_body(error, "anthropic"))

    async def _block_start(self, events: EventStream, block: dict[str, Any]) -> None:
        frame = {"type": "content_block_start", "index": self.blocks, "content_block": block}
        await events.event("content_block_start", frame)

    async def _block_delta(self, events: EventStream, delta: dict[str, Any]) -> None:
        frame = {"type": "content_block_delta", "index": self.blocks, "delta": delta}
        await events.event("content_block_delta", frame)

    async def _block_stop(self, events: EventStream) -> None:
        await events.event(
            "content_block_stop", {"type": "content_block_stop", "index": self.blocks}
        )
        self.blocks += 1
        self.text_open = False


def _tool_use(call: ToolCall, arguments: dict[str, Any]) -> dict[str, Any]:
    return {"type": "tool_use", "id": anthropic_id(call.id), "name": call.name, "input": arguments}
