"""Calling real models: drafts for assist mode, control arms, and fallback answers.

An upstream is any OpenAI-compatible Chat Completions endpoint. Its key comes
from the environment variable the study names, read once at start-up. Every
call has the upstream's timeout, and every failure (refused connection, HTTP
error, timeout, an answer that is not a chat completion) becomes an
`UpstreamError` with a reason the record can keep: never a hang.

The persona's operator guide is sent as a leading system message, so the model
arm gets the same instructions as the human wizards.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass
from typing import Any, Protocol

import aiohttp

from woz.models.study import Study, Upstream
from woz.models.task import Answer, Message, ProducedBy, Task, ToolCall


class UpstreamError(Exception):
    """An upstream call that failed; `reason` is short and machine-readable."""

    def __init__(self, upstream: str, reason: str, detail: str) -> None:
        super().__init__(f"upstream {upstream!r} failed ({reason}): {detail}")
        self.upstream = upstream
        self.reason = reason
        self.detail = detail


class ModelBackend(Protocol):
    """What the dispatcher needs from real models."""

    async def answer(self, upstream_id: str, task: Task) -> Answer:
        """A complete answer by the upstream, marked `produced_by = model`."""

    def stream(self, upstream_id: str, task: Task) -> AsyncIterator[str]:
        """The upstream's text as it is generated (for drafts)."""


class MissingKey(Exception):
    """An upstream's key variable is not set; the message says which."""


@dataclass(frozen=True)
class Relayed:
    """An upstream's response to a passed-through request, kept as it was sent."""

    status: int
    body: bytes
    content_type: str


class Upstreams:
    """`ModelBackend` over the study's `[[upstreams]]`, sharing one HTTP session."""

    def __init__(self, study: Study, session: aiohttp.ClientSession) -> None:
        self._study = study
        self._session = session
        self._keys: dict[str, str | None] = {}
        for upstream in study.upstreams:
            key = os.environ.get(upstream.api_key_env) if upstream.api_key_env else None
            if upstream.api_key_env and not key:
                raise MissingKey(
                    f"upstream {upstream.id!r} needs its key in the environment variable "
                    f"{upstream.api_key_env}, which is not set"
                )
            self._keys[upstream.id] = key

    def _spec(self, upstream_id: str) -> Upstream:
        spec = self._study.upstream(upstream_id)
        if spec is None:
            raise UpstreamError(upstream_id, "unknown_upstream", "not in the study file")
        return spec

    @contextlib.asynccontextmanager
    async def _post(
        self, spec: Upstream, path: str, body: dict[str, Any], *, ok_only: bool = True
    ) -> AsyncIterator[aiohttp.ClientResponse]:
        """POST `body` to the upstream's `path`; any failure inside becomes an `UpstreamError`.

        With `ok_only`, a status other than 200 is a failure too.
        """
        key = self._keys.get(spec.id)
        try:
            async with self._session.post(
                spec.base_url.rstrip("/") + path,
                json=body,
                headers={"Authorization": f"Bearer {key}"} if key else {},
                timeout=aiohttp.ClientTimeout(total=spec.timeout_s),
            ) as response:
                if ok_only and response.status != 200:
                    text = (await response.text())[:300]
                    raise UpstreamError(spec.id, f"http_{response.status}", text)
                yield response
        except TimeoutError as exc:
            raise UpstreamError(spec.id, "timeout", f"no answer within {spec.timeout_s}s") from exc
        except aiohttp.ClientError as exc:
            raise UpstreamError(spec.id, "connection", str(exc) or type(exc).__name__) from exc

    async def answer(self, upstream_id: str, task: Task) -> Answer:
        spec = self._spec(upstream_id)
        body = request_body(spec, task, self._study, stream=False)
        async with self._post(spec, "/chat/completions", body) as response:
            try:
                payload = await response.json(content_type=None)
            except ValueError as exc:
                raise UpstreamError(spec.id, "bad_response", "the answer is not JSON") from exc
        return _answer_from(spec, payload)

    async def stream(self, upstream_id: str, task: Task) -> AsyncIterator[str]:
        spec = self._spec(upstream_id)
        body = request_body(spec, task, self._study, stream=True)
        async with self._post(spec, "/chat/completions", body) as response:
            async for line in response.content:
                piece = _delta_text(line)
                if piece is None:
                    break
                if piece:
                    yield piece

    async def stream_body(
        self, upstream_id: str, path: str, body: dict[str, Any]
    ) -> AsyncGenerator[bytes, None]:
        """POST `body` to the upstream's `path` and yield its response body as it arrives
        (speech audio); anything but a 200 is an `UpstreamError`."""
        spec = self._spec(upstream_id)
        async with self._post(spec, path, body) as response:
            async for chunk in response.content.iter_any():
                yield chunk

    async def relay(self, upstream_id: str, path: str, body: dict[str, Any]) -> Relayed:
        """Pass `body` to the upstream's `path` with its own model; the answer as it came.

        An HTTP error from the upstream is returned, not raised, so the app sees it
        unchanged; only a failure to get an answer at all raises `UpstreamError`.
        """
        spec = self._spec(upstream_id)
        async with self._post(spec, path, {**body, "model": spec.model}, ok_only=False) as response:
            return Relayed(
                status=response.status,
                body=await response.read(),
                content_type=response.headers.get("Content-Type", "application/json"),
            )


def model_name(spec: Upstream) -> str:
    """How records name the model: `upstream-id:model`."""
    return f"{spec.id}:{spec.model}"


def request_body(spec: Upstream, task: Task, study: Study, *, stream: bool) -> dict[str, Any]:
    """The Chat Completions request for `task`, with the persona's guide first."""
    messages: list[dict[str, Any]] = []
    persona = study.persona(task.persona)
    if persona is not None and persona.guide.strip():
        messages.append({"role": "system", "content": persona.guide.strip()})
    messages.extend(_wire_message(m) for m in task.messages)
    body: dict[str, Any] = {"model": spec.model, "messages": messages, "stream": stream}
    if task.tools:
        body["tools"] = [
            {
                "type": "function",
                "function": {
                    "name": t.name,
                    "description": t.description or "",
                    "parameters": t.parameters or {"type": "object", "properties": {}},
                },
            }
            for t in task.tools
        ]
        choice = task.tool_choice
        body["tool_choice"] = (
            {"type": "function", "function": {"name": choice.name}}
            if choice.mode == "named"
            else choice.mode
        )
    fmt = task.response_format
    if fmt.type == "json_object":
        body["response_format"] = {"type": "json_object"}
    elif fmt.type == "json_schema":
        body["response_format"] = {
            "type": "json_schema",
            "json_schema": {"name": fmt.name or "answer", "schema": fmt.json_schema or {}},
        }
    limit = task.max_tokens or spec.max_tokens
    if limit:
        body["max_tokens"] = limit
    return body


def _wire_message(message: Message) -> dict[str, Any]:
    wire: dict[str, Any] = {"role": message.role}
    if message.role == "tool":
        wire["tool_call_id"] = message.tool_call_id or ""
        wire["content"] = message.text()
        return wire
    parts: list[dict[str, Any]] = []
    for part in message.content:
        if part.type == "text":
            parts.append({"type": "text", "text": part.text or ""})
        elif part.type == "image" and part.url:
            parts.append({"type": "image_url", "image_url": {"url": part.url}})
    only_text = all(p["type"] == "text" for p in parts)
    wire["content"] = message.text() if only_text else parts
    if message.tool_calls:
        wire["content"] = message.text() or None
        wire["tool_calls"] = [
            {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
            for c in message.tool_calls
        ]
    return wire


def _answer_from(spec: Upstream, payload: Any) -> Answer:
    try:
        choice = payload["choices"][0]
        message = choice["message"]
        calls = [
            ToolCall(name=c["function"]["name"], arguments=c["function"].get("arguments") or "{}")
            for c in message.get("tool_calls") or []
        ]
        finish = choice.get("finish_reason") or "stop"
    except (KeyError, IndexError, TypeError) as exc:
        raise UpstreamError(spec.id, "bad_response", "not a chat completion") from exc
    return Answer(
        content=message.get("content"),
        tool_calls=calls,
        finish_reason="tool_calls" if calls else ("length" if finish == "length" else "stop"),
        produced_by=ProducedBy.MODEL,
        model=model_name(spec),
    )


def _delta_text(line: bytes) -> str | None:
    """The text of one SSE line of a streamed completion; None at `[DONE]`."""
    text = line.decode("utf-8", "replace").strip()
    if not text.startswith("data:"):
        return ""
    data = text[5:].strip()
    if data == "[DONE]":
        return None
    try:
        chunk = json.loads(data)
        return str(chunk["choices"][0]["delta"].get("content") or "") if chunk["choices"] else ""
    except (json.JSONDecodeError, KeyError, IndexError, TypeError):
        return ""


__all__ = ["MissingKey", "ModelBackend", "Relayed", "UpstreamError", "Upstreams", "model_name"]
