"""`POST /v1/chat/completions`: the OpenAI Chat Completions facade.

Streaming follows WIRE.md to the byte: the role chunk at once, content (or
tool-call) deltas paced like a model, exactly one finish chunk, the usage chunk
when asked, `data: [DONE]`, then the response closes. Keep-alives are SSE
comments. The answer is committed before its first byte is written.
"""

from __future__ import annotations

import time
from typing import Any

from aiohttp import web

from woz.api.core.errors import error_body
from woz.api.core.exchange import Exchange
from woz.api.core.fields import parse_body
from woz.api.core.intake import find_persona, intake, read_json
from woz.api.core.pacing import input_tokens, output_tokens
from woz.api.core.sse import EventStream
from woz.api.openai.wire import (
    ChatCompletionRequest,
    messages_of,
    response_format_of,
    tool_choice_of,
    tools_of,
)
from woz.context import SETTINGS, runtime_of
from woz.dispatch.base import TaskHandle
from woz.errors import WozError, invalid_request
from woz.models.task import Answer, Task, new_id

SYSTEM_FINGERPRINT = "fp_woz"


async def create_chat_completion(request: web.Request) -> web.StreamResponse:
    body, raw = await read_json(request)
    chat = parse_body(ChatCompletionRequest, body)
    if chat.n != 1:
        raise invalid_request("woz answers with one human reply: 'n' must be 1.", param="n")
    persona = find_persona(request, chat.model)
    facts = intake(request, raw, chat.user or chat.safety_identifier)
    task = Task(
        study_id=runtime_of(request).study.id,
        persona=persona.id,
        api="openai.chat_completions",
        messages=messages_of(chat, request.app[SETTINGS].max_message_chars),
        tools=tools_of(chat),
        tool_choice=tool_choice_of(chat),
        parallel_tool_calls=chat.parallel_tool_calls,
        response_format=response_format_of(chat),
        stream=chat.stream,
        live=persona.live and chat.stream,
        max_tokens=chat.max_completion_tokens or chat.max_tokens,
        request={k: v for k, v in body.items() if k not in ("messages", "tools")},
        **facts.task_fields(),
    )
    model = chat.model
    include_usage = bool(chat.stream_options and chat.stream_options.include_usage)
    # The parsed body and request are not needed any more: a request waiting for a
    # human should hold only its task, not three copies of what it asked.
    del body, raw, chat, facts
    handle = await runtime_of(request).dispatcher.submit(task)
    del task  # admission may have made a redacted copy: only the handle's task lives on
    return await _Completion(request, handle, model, include_usage).run()


class _Completion(Exchange):
    """One chat completion, streaming or not; the lifecycle is `Exchange`'s."""

    def __init__(
        self, request: web.Request, handle: TaskHandle, model: str, include_usage: bool
    ) -> None:
        super().__init__(request, handle)
        self.model = model
        self.include_usage = include_usage
        self.id = new_id("chatcmpl-", 15)
        self.created = int(time.time())

    def body(self, answer: Answer) -> dict[str, Any]:
        return self._completion(answer)

    async def stream_start(self, events: EventStream) -> None:
        await events.data(self._chunk({"role": "assistant", "content": "", "refusal": None}))

    async def stream_text(self, events: EventStream, piece: str) -> None:
        await events.data(self._chunk({"content": piece}))

    async def stream_error(self, events: EventStream, error: WozError) -> None:
        await events.data(error_body(error, "openai"))

    async def stream_answer(self, events: EventStream, answer: Answer) -> None:
        async for piece in self.paced(self.unsent_text(answer)):
            await self.stream_text(events, piece)
        for index, call in enumerate(answer.tool_calls):
            head = {
                "index": index,
                "id": call.id,
                "type": "function",
                "function": {"name": call.name, "arguments": ""},
            }
            await events.data(self._chunk({"tool_calls": [head]}))
            async for piece in self.paced(call.arguments):
                delta = {"tool_calls": [{"index": index, "function": {"arguments": piece}}]}
                await events.data(self._chunk(delta))
        await events.data(self._chunk({}, finish_reason=answer.finish_reason))
        if self.include_usage:
            usage_chunk = self._chunk_base()
            usage_chunk["choices"] = []
            usage_chunk["usage"] = self._usage(answer)
            await events.data(usage_chunk)
        await events.raw("data: [DONE]\n\n")

    # -- shapes ----------------------------------------------------------------

    def _chunk_base(self) -> dict[str, Any]:
        chunk: dict[str, Any] = {
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
            "system_fingerprint": SYSTEM_FINGERPRINT,
            "service_tier": "default",
        }
        if self.include_usage:
            chunk["usage"] = None
        return chunk

    def _chunk(self, delta: dict[str, Any], finish_reason: str | None = None) -> dict[str, Any]:
        chunk = self._chunk_base()
        chunk["choices"] = [
            {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
        ]
        return chunk

    def _usage(self, answer: Answer) -> dict[str, Any]:
        prompt = input_tokens(self.task.messages)
        completion = output_tokens(answer)
        return {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
            "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
            "completion_tokens_details": {
                "reasoning_tokens": 0,
                "audio_tokens": 0,
                "accepted_prediction_tokens": 0,
                "rejected_prediction_tokens": 0,
            },
        }

    def _completion(self, answer: Answer) -> dict[str, Any]:
        message: dict[str, Any] = {
            "role": "assistant",
            "content": answer.content if not answer.tool_calls else answer.content or None,
            "refusal": None,
            "annotations": [],
        }
        if answer.tool_calls:
            message["tool_calls"] = [
                {
                    "id": c.id,
                    "type": "function",
                    "function": {"name": c.name, "arguments": c.arguments},
                }
                for c in answer.tool_calls
            ]
        return {
            "id": self.id,
            "object": "chat.completion",
            "created": self.created,
            "model": self.model,
            "choices": [
                {
                    "index": 0,
                    "message": message,
                    "logprobs": None,
                    "finish_reason": answer.finish_reason,
                }
            ],
            "usage": self._usage(answer),
            "service_tier": "default",
            "system_fingerprint": SYSTEM_FINGERPRINT,
        }
