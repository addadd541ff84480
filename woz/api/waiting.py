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
    if keepalive is None and on_draft is None:
        return await _await_outcome(request, handle.outcome, poll_s)
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


async def _await_outcome(
    request: web.Request, outcome: asyncio.Future[Delivery], poll_s: float
) -> Delivery:
    """The plain wait (no stream, no live drafts): one waiter woken by the outcome or
    by the poll timer, cheaper than `asyncio.wait` on the path every request takes."""
    loop = asyncio.get_running_loop()
    while not outcome.done():
        waiter: asyncio.Future[None] = loop.create_future()

        def wake(_: object = None, waiter: asyncio.Future[None] = waiter) -> None:
            if not waiter.done():
                waiter.set_result(None)

        outcome.add_done_callback(wake)
        timer = loop.call_later(poll_s, wake)
        try:
            await waiter
        finally:
            timer.cancel()
            outcome.remove_done_callback(wake)
        if not outcome.done() and client_gone(request):
            raise ClientGone
    return outcome.result()
