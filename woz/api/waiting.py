"""Waiting for a human: keep-alives, live drafts, and noticing a client that left.

aiohttp does not cancel a handler when its client disconnects, so the wait
polls the transport (every `disconnect_poll_s`); a departure raises
`ClientGone` within that interval, and the caller revokes the task.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from aiohttp import web

from woz.api.sse import ClientGone, client_gone
from woz.dispatch.base import Delivery, TaskHandle


async def await_delivery(
    request: web.Request,
    handle: TaskHandle,
    *,
    poll_s: float,
    keepalive_s: float | None = None,
    keepalive: Callable[[], Awaitable[None]] | None = None,
    on_draft: Callable[[str], Awaitable[None]] | None = None,
) -> Delivery:
    """The committed answer; raises its `WozError`, or `ClientGone`.

    `keepalive` is awaited whenever `keepalive_s` passes without other output;
    `on_draft` is awaited with each new draft of a live-mode task.
    """
    last_output = time.monotonic()
    draft_seen = handle.draft
    while True:
        waits: set[asyncio.Future[object]] = {handle.outcome}  # type: ignore[arg-type]
        draft_wait: asyncio.Task[None] | None = None
        if on_draft is not None:
            draft_wait = asyncio.ensure_future(handle.draft_changed())
            waits.add(draft_wait)  # type: ignore[arg-type]
        try:
            await asyncio.wait(waits, timeout=poll_s, return_when=asyncio.FIRST_COMPLETED)
        finally:
            if draft_wait is not None:
                draft_wait.cancel()
        if handle.outcome.done():
            return handle.outcome.result()
        if client_gone(request):
            raise ClientGone
        if on_draft is not None and handle.draft != draft_seen:
            draft_seen = handle.draft
            await on_draft(draft_seen)
            last_output = time.monotonic()
        due = keepalive_s is not None and time.monotonic() - last_output >= keepalive_s
        if keepalive is not None and due:
            await keepalive()
            last_output = time.monotonic()
