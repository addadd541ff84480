"""`POST /v1/responses`: the OpenAI Responses facade.

Streaming follows WIRE.md: every frame is a named event whose `type` matches
its name, numbered by `sequence_number` from 0. `response.created` and
`response.in_progress` are sent at once, SSE comments keep the connection
alive while a human thinks; then a message item (`output_item.added`,
`content_part.added`, `output_text.delta`s, `output_text.done`,
`content_part.done`, `output_item.done`) and a function-call item per tool
call (`output_item.added`, `function_call_arguments.delta`s and `.done`,
`output_item.done`); then `response.completed` with the whole response, or
`response.incomplete` when the answer was cut short.

Unless the request says `store: false`, each response's conversation (its
history, new input and answer, as the operator saw them; not its instructions)
is stored with its conversation id before the answer is sent, so a follow-up
naming it in `previous_response_id` continues it, in the same woz conversation.
The response object is stored beside it, built once so that what
`GET /v1/responses/{id}` returns is what the app was sent, less the `user` it
named (woz keeps participants only by pseudonym). Retrieval, deletion and
`background: true` responses are `openai_responses_stored`'s, the list of input
items `openai_responses_items`'.
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
from woz.api.openai.responses_stored import (
    StoredConversation,
    load_conversation,
    start_background,
)
from woz.api.openai.responses_wire import (
    ResponsesRequest,
    call_item,
    input_of,
    instructions_of,
    message_item,
    response_format_of,
    text_part,
    tool_choice_of,
    tools_of,
)
from woz.context import SETTINGS, STORE, runtime_of
from woz.dispatch.base import TaskHandle
from woz.errors import ErrorKind, WozError, invalid_request
from woz.jsontext import dumps
from woz.models.task import Answer, Task, ToolCall, ToolChoice, new_id

# Why an answer stopped short, as the Responses API reports it.
_INCOMPLETE = {"length": "max_output_tokens", "content_filter": "content_filter"}


async def create_response(request: web.Request) -> web.StreamResponse:
    body, raw = await read_json(request)
    wire = parse_body(ResponsesRequest, body)
    persona = find_persona(request, wire.model)
    previous = await _previous(request, wire.previous_response_id)
    history = previous.messages if previous else []
    max_chars = request.app[SETTINGS].max_message_chars
    new_items = input_of(wire, max_chars)
    if not new_items and not history:
        raise invalid_request("'input' is required.", param="input")
    facts = intake(request, raw, wire.user or wire.safety_identifier)
    if previous is not None and not facts.conversation_id:
        # A follow-up is explicitly linked to its conversation (an explicit
        # X-Woz-Conversation still wins); matching message prefixes would miss
        # it, since instructions are not carried over.
        facts.conversation_id = previous.conversation_id
    instructions = instructions_of(wire, max_chars)
    task = Task(
        study_id=runtime_of(request).study.id,
        persona=persona.id,
        api="openai.responses",
        messages=[*instructions, *history, *new_items],
        tools=tools_of(wire),
        tool_choice=tool_choice_of(wire),
        parallel_tool_calls=wire.parallel_tool_calls is not False,
        response_format=response_format_of(wire),
        stream=wire.stream,
        live=persona.live and wire.stream,
        max_tokens=wire.max_output_tokens,
        request={k: v for k, v in body.items() if k not in ("input", "tools", "instructions")},
        **facts.task_fields(),
    )
    if wire.background and (wire.store is False or wire.stream):
        param = "store" if wire.store is False else "stream"
        raise invalid_request(
            f"A background response cannot be requested with '{param}' set: it is stored "
            "and fetched with GET /v1/responses/{id}.",
            param=param,
        )
    handle = await runtime_of(request).dispatcher.submit(task)
    del task  # admission may have made a redacted copy: only the handle's task lives on
    exchange = _Response(request, handle, wire, len(instructions))
    if wire.background:
        return await start_background(request, exchange)
    return await exchange.run()


async def _previous(request: web.Request, response_id: str | None) -> StoredConversation | None:
    """The stored conversation that `previous_response_id` continues."""
    if response_id is None:
        return None
    stored = await load_conversation(request, response_id)
    if stored is None:
        raise WozError(
            ErrorKind.NOT_FOUND,
            f"Previous response with id '{response_id}' not found.",
            code="previous_response_not_found",
            param="previous_response_id",
        )
    if not stored.answered:  # a background response with no answer (yet)
        raise invalid_request(
            f"Previous response with id '{response_id}' has no completed answer to continue.",
            param="previous_response_id",
            code="previous_response_not_completed",
        )
    return stored


class _Response(Exchange):
    """One Responses API response, streaming or not; the lifecycle is `Exchange`'s."""

    def __init__(
        self,
        request: web.Request,
        handle: TaskHandle,
        wire: ResponsesRequest,
        instructions: int,
    ) -> None:
        super().__init__(request, handle)
        self.wire = wire
        self.instructions = instructions  # leading messages that are not carried over
        self.id = new_id("resp_", 24)
        self.created_at = int(time.time())
        self.message_id = new_id("msg_", 24)
        self.sequence = 0
        self.items = 0  # output items started so far; the next one's output_index
        self.text_open = False
        self._finished: dict[str, Any] | None = None

    async def on_answer(self, answer: Answer) -> None:
        if self.wire.store is False:
            return
        await self._save(self._conversation(answer), self.finished(answer))

    async def store_object(self, response: dict[str, Any]) -> None:
        """Store `response` for `GET`, with its input but no answer to continue from (a
        background response not answered, or not yet)."""
        await self._save(self._conversation(None), response)

    def _conversation(self, answer: Answer | None) -> StoredConversation:
        # The task's messages as admitted: after the study's redaction, so the
        # stored conversation holds no more than the operator was shown.
        carried = self.task.messages[self.instructions :]
        return StoredConversation(
            conversation_id=self.task.conversation_id,
            messages=[*carried, answer.as_message()] if answer else carried,
            answered=answer is not None,
        )

    async def _save(self, conversation: StoredConversation, response: dict[str, Any]) -> None:
        await self.request.app[STORE].save_response(
            self.id,
            self.task.study_id,
            self.task.participant,
            conversation.model_dump_json(),
            dumps(self._kept(response)),
        )

    def _kept(self, response: dict[str, Any]) -> dict[str, Any]:
        """The response object as stored: without the participant's raw id, and with
        the instructions and metadata as admitted when the study's redaction changed
        anything (the conversation beside it is the redacted one too)."""
        kept = {**response, "user": None}
        if any(self.task.redactions.values()):
            system = [m.text() for m in self.task.messages[: self.instructions]]
            kept["instructions"] = "\n\n".join(system) if system else None
            kept["metadata"] = self.task.request.get("metadata") or {}
        return kept

    def finished(self, answer: Answer) -> dict[str, Any]:
        """The finished response object, built once: sent, streamed last, and stored."""
        if self._finished is None:
            output: list[dict[str, Any]] = []
            if answer.content:
                output.append(message_item(self.message_id, answer.content, _status(answer)))
            output.extend(
                call_item(call, new_id("fc_", 24), call.arguments, "completed")
                for call in answer.tool_calls
            )
            self._finished = self._response(answer, output)
        return self._finished

    # -- plain JSON ------------------------------------------------------------

    def body(self, answer: Answer) -> dict[str, Any]:
        return self.finished(answer)

    def unfinished(self, status: str, error: dict[str, str] | None = None) -> dict[str, Any]:
        """The response object without an answer: queued, failed or cancelled."""
        return {**self._response(None, []), "status": status, "error": error}

    def _response(self, answer: Answer | None, output: list[dict[str, Any]]) -> dict[str, Any]:
        """The response object: in progress without an answer, else complete or cut short."""
        status = _status(answer) if answer else "in_progress"
        reason = _INCOMPLETE.get(answer.finish_reason) if answer else None
        wire = self.wire
        return {
            "id": self.id,
            "object": "response",
            "created_at": self.created_at,
            "status": status,
            "completed_at": int(time.time()) if status == "completed" else None,
            "background": self.wire.background,
            "error": None,
            "incomplete_details": {"reason": reason} if reason else None,
            "instructions": wire.instructions,
            "max_output_tokens": wire.max_output_tokens,
            "metadata": wire.metadata or {},
            "model": wire.model,
            "output": output,
            "parallel_tool_calls": self.task.parallel_tool_calls,
            "previous_response_id": wire.previous_response_id,
            "service_tier": "default",
            "store": wire.store is not False,
            "temperature": wire.temperature if wire.temperature is not None else 1.0,
            "text": {"format": self._format()},
            "tool_choice": _tool_choice(self.task.tool_choice),
            "tools": [
                {
                    "type": "function",
                    "name": t.name,
                    "description": t.description,
                    "parameters": t.parameters,
                    "strict": t.strict,
                }
                for t in wire.tools or []
            ],
            "top_p": wire.top_p if wire.top_p is not None else 1.0,
            "truncation": "disabled",
            "usage": self._usage(answer) if answer else None,
            "user": wire.user,
        }

    def _format(self) -> dict[str, Any]:
        fmt = self.task.response_format
        if fmt.type != "json_schema":
            return {"type": fmt.type}
        wanted = self.wire.text.format if self.wire.text else None
        return {
            "type": "json_schema",
            "name": fmt.name,
            "description": wanted.description if wanted else None,
            "schema": fmt.json_schema,
            "strict": fmt.strict,
        }

    def _usage(self, answer: Answer) -> dict[str, Any]:
        prompt = input_tokens(self.task.messages)
        completion = output_tokens(answer)
        return {
            "input_tokens": prompt,
            "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
            "output_tokens": completion,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": prompt + completion,
        }

    # -- events ----------------------------------------------------------------

    async def _emit(self, events: EventStream, kind: str, **fields: Any) -> None:
        await events.event(kind, {"type": kind, "sequence_number": self.sequence, **fields})
        self.sequence += 1

    async def stream_start(self, events: EventStream) -> None:
        await self._emit(events, "response.created", response=self._response(None, []))
        await self._emit(events, "response.in_progress", response=self._response(None, []))

    async def stream_text(self, events: EventStream, piece: str) -> None:
        where = {"item_id": self.message_id, "output_index": self.items}
        if not self.text_open:
            self.text_open = True
            item = message_item(self.message_id, None, "in_progress")
            await self._emit(
                events, "response.output_item.added", output_index=self.items, item=item
            )
            part = text_part("")
            await self._emit(
                events, "response.content_part.added", **where, content_index=0, part=part
            )
        await self._emit(
            events, "response.output_text.delta", **where, content_index=0, delta=piece, logprobs=[]
        )

    async def stream_answer(self, events: EventStream, answer: Answer) -> None:
        async for piece in self.paced(self.unsent_text(answer)):
            await self.stream_text(events, piece)
        response = self.finished(answer)
        # The streamed items are the finished response's output: its message (the
        # text streamed above), then its function calls, with the same ids.
        call_items = response["output"]
        if self.text_open:
            await self._finish_text(events, call_items[0])
            call_items = call_items[1:]
        for call, item in zip(answer.tool_calls, call_items, strict=True):
            await self._stream_call(events, call, item)
        ending = (
            "response.completed" if response["status"] == "completed" else "response.incomplete"
        )
        await self._emit(events, ending, response=response)

    async def _finish_text(self, events: EventStream, item: dict[str, Any]) -> None:
        """Close the streamed message: `item` is the finished response's."""
        part = item["content"][0]
        where = {"item_id": item["id"], "output_index": self.items, "content_index": 0}
        await self._emit(
            events, "response.output_text.done", **where, text=part["text"], logprobs=[]
        )
        await self._emit(events, "response.content_part.done", **where, part=part)
        await self._emit(events, "response.output_item.done", output_index=self.items, item=item)
        self.items += 1

    async def _stream_call(self, events: EventStream, call: ToolCall, item: dict[str, Any]) -> None:
        """Stream `call`; `item` is its function call in the finished response."""
        where = {"item_id": item["id"], "output_index": self.items}
        added = call_item(call, item["id"], "", "in_progress")
        await self._emit(events, "response.output_item.added", output_index=self.items, item=added)
        async for piece in self.paced(call.arguments):
            await self._emit(events, "response.function_call_arguments.delta", **where, delta=piece)
        await self._emit(
            events, "response.function_call_arguments.done", **where, arguments=call.arguments
        )
        await self._emit(events, "response.output_item.done", output_index=self.items, item=item)
        self.items += 1

    async def stream_error(self, events: EventStream, error: WozError) -> None:
        # The documented event has `code`, `message` and `param` at the top; the
        # live API (and so the Python SDK, which raises APIError on it) nests
        # them under `error`. Both are sent, so either kind of client sees them.
        nested = error_body(error, "openai")["error"]
        await self._emit(
            events,
            "error",
            code=nested["code"] or nested["type"],
            message=error.message,
            param=error.param,
            error=nested,
        )


def _status(answer: Answer) -> str:
    return "incomplete" if answer.finish_reason in _INCOMPLETE else "completed"


def _tool_choice(choice: ToolChoice) -> str | dict[str, str]:
    if choice.mode == "named" and choice.name:
        return {"type": "function", "name": choice.name}
    return choice.mode
