"""Server-sent events: headers at once, frames written as they come, no compression.

`EventStream.write_*` raise `ClientGone` when the client has left, so callers
can stop work and revoke the task instead of writing into a dead socket.
"""

from __future__ import annotations

import contextlib
from typing import Any

from aiohttp import web

from woz.jsontext import dumps


class ClientGone(Exception):
    """The API client closed its connection before the response was complete."""


class EventStream:
    def __init__(self, request: web.Request) -> None:
        self._request = request
        self.response = web.StreamResponse(
            status=200,
            headers={
                "Content-Type": "text/event-stream; charset=utf-8",
                "Cache-Control": "no-cache",
                "X-Accel-Buffering": "no",
            },
        )

    async def open(self) -> None:
        """Send the status line and headers now, before any answer exists."""
        await self.response.prepare(self._request)

    async def _write(self, payload: str) -> None:
        if client_gone(self._request):
            raise ClientGone
        try:
            await self.response.write(payload.encode())
        except (ConnectionResetError, RuntimeError) as exc:  # closed transport
            raise ClientGone from exc

    async def data(self, obj: Any) -> None:
        """An unnamed frame: `data: <json>` (OpenAI Chat Completions)."""
        await self._write(f"data: {dumps(obj)}\n\n")

    async def event(self, name: str, obj: Any) -> None:
        """A named frame: `event: <name>` then `data: <json>` (Anthropic, Responses)."""
        await self._write(f"event: {name}\ndata: {dumps(obj)}\n\n")

    async def raw(self, text: str) -> None:
        await self._write(text)

    async def comment(self, text: str = "keep-alive") -> None:
        """An SSE comment: ignored by parsers, keeps proxies and clients from timing out."""
        await self._write(f": {text}\n\n")

    async def close(self) -> None:
        with contextlib.suppress(ConnectionResetError, RuntimeError):
            await self.response.write_eof()


def client_gone(request: web.Request) -> bool:
    transport = request.transport
    return transport is None or transport.is_closing()
