"""`POST /v1/chat/completions`: the OpenAI Chat Completions facade.

Streaming follows WIRE.md to the byte: the role chunk at once, content (or
tool-call) deltas paced like a model, exactly one finish chunk, the usage chunk
when asked, `data: [DONE]`, then the response closes. Keep-alives are SSE
comments. The answer is committed before its first byte is written.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from aiohttp import web

from woz.api.errors import error_body
from woz.api.intake import find_persona, intake, parse_body, read_json
from woz.api.openai_wire import (
    ChatCompletionRequest,
    messages_of,
    response_format_of,
    tool_choice_of,
    tools_of,
)
from woz.api.pacing import count_tokens, paced, split_tokens
from woz.api.sse import ClientGone, EventStream
from woz.api.waiting import await_delivery
from woz.context import DISPATCHER, SETTINGS, STUDY
from woz.dispatch.base import Delivery, TaskHandle
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
        study_id=request.app[STUDY].id,
        persona=persona.id,
        api="openai.chat_completions",
        conversation_id=facts.conversation_id,
        scope=facts.scope,
        participant=facts.participant,
        messages=messages_of(chat),
        tools=tools_of(chat),
        tool_choice=tool_choice_of(chat),
        parallel_tool_calls=chat.parallel_tool_calls,
        response_format=response_format_of(chat),
        stream=chat.stream,
        live=persona.live and chat.stream,
        max_tokens=chat.max_completion_tokens or chat.max_tokens,
        received_at=facts.received_at,
        request_key=facts.request_key,
        request={k: v for k, v in body.items() if k not in ("messages", "tools")},
    )
    handle = await request.app[DISPATCHER].submit(task)
    completion = _Completion(request, handle, chat)
    if chat.stream:
        return await completion.stream()
    return await completion.respond()


class _Completion:
    """One request's rendering, streaming or not, and its report back to the dispatcher."""

    def __init__(
        self, request: web.Request, handle: TaskHandle, chat: ChatCompletionRequest
    ) -> None:
        self.request = request
        self.handle = handle
        self.chat = chat
        self.id = new_id("chatcmpl-", 15)
        self.created = int(time.time())
        self.settings = request.app[SETTINGS]
        self.pacing = request.app[STUDY].pacing
        self.dispatcher = request.app[DISPATCHER]

    async def respond(self) -> web.StreamResponse:
        delivered = False
        try:
            delivery = await await_delivery(
                self.request, self.handle, poll_s=self.settings.disconnect_poll_s
            )
            response = web.json_response(self._completion(delivery))
            await response.prepare(self.request)
            await response.write_eof()
            delivered = True
            return response
        except ClientGone:
            return web.Response(status=499)  # nobody is listening; the status is for the log
        finally:
            await asyncio.shield(self.dispatcher.finish(self.handle, delivered=delivered))

    async def stream(self) -> web.StreamResponse:
        events = EventStream(self.request)
        streamed = ""

        async def on_draft(draft: str) -> None:
            nonlocal streamed
            stable = draft[: max(draft.rfind(" "), draft.rfind("\n")) + 1]
            if stable.startswith(streamed) and len(stable) > len(streamed):
                piece, streamed = stable[len(streamed) :], stable
                self.handle.mark_streamed(streamed)
                await events.data(self._chunk({"content": piece}))

        delivered = False
        try:
            await events.open()
            await events.data(self._chunk({"role": "assistant", "content": "", "refusal": None}))
            try:
                delivery = await await_delivery(
                    self.request,
                    self.handle,
                    poll_s=self.settings.disconnect_poll_s,
                    keepalive_s=self.settings.keepalive_s,
                    keepalive=events.comment,
                    on_draft=on_draft if self.handle.task.live else None,
                )
            except WozError as error:
                await events.data(error_body(error, "openai"))
            else:
                await self._stream_answer(events, delivery.answer, already_sent=streamed)
                await events.raw("data: [DONE]\n\n")
                delivered = True
            await events.close()
        except ClientGone:
            pass
        finally:
            await asyncio.shield(self.dispatcher.finish(self.handle, delivered=delivered))
        return events.response

    async def _stream_answer(self, events: EventStream, answer: Answer, already_sent: str) -> None:
        delay = self.pacing.first_token_delay_ms / 1000 if not already_sent else 0.0
        rate = self.pacing.tokens_per_second
        if answer.content:
            rest = answer.content[len(already_sent) :]
            async for piece in paced(rest, rate, delay):
                await events.data(self._chunk({"content": piece}))
                delay = 0.0
        for index, call in enumerate(answer.tool_calls):
            head = {
                "index": index,
                "id": call.id,
                "type": "function",
                "function": {"name": call.name, "arguments": ""},
            }
            await events.data(self._chunk({"tool_calls": [head]}))
            async for piece in paced(call.arguments, rate, delay):
                delta = {"tool_calls": [{"index": index, "function": {"arguments": piece}}]}
                await events.data(self._chunk(delta))
                delay = 0.0
        await events.data(self._chunk({}, finish_reason=answer.finish_reason))
        if self.chat.stream_options and self.chat.stream_options.include_usage:
            usage_chunk = self._chunk_base()
            usage_chunk["choices"] = []
            usage_chunk["usage"] = self._usage(answer)
            await events.data(usage_chunk)

    # -- shapes ----------------------------------------------------------------

    def _chunk_base(self) -> dict[str, Any]:
        chunk: dict[str, Any] = {
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.chat.model,
            "system_fingerprint": SYSTEM_FINGERPRINT,
            "service_tier": "default",
        }
        if self.chat.stream_options and self.chat.stream_options.include_usage:
            chunk["usage"] = None
        return chunk

    def _chunk(self, delta: dict[str, Any], finish_reason: str | None = None) -> dict[str, Any]:
        chunk = self._chunk_base()
        chunk["choices"] = [
            {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
        ]
        return chunk

    def _usage(self, answer: Answer) -> dict[str, Any]:
        prompt = sum(count_tokens(m.text()) + 4 for m in self.handle.task.messages)
        completion = count_tokens(answer.content or "") + sum(
            len(split_tokens(c.name + c.arguments)) for c in answer.tool_calls
        )
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

    def _completion(self, delivery: Delivery) -> dict[str, Any]:
        answer = delivery.answer
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
            "model": self.chat.model,
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
