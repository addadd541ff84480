"""Waiting for a human: keep-alives, live drafts, and noticing a client that left.

aiohttp does not cancel a handler when its client disconnects (unless the
server runs with `handler_cancellation`, as `woz serve` does), so a waiting
request checks its transport every `disconnect_poll_s`; a departure raises
`ClientGone` within that interval, and the caller revokes the task.

Plain waits (no stream, no live drafts) are all checked by one `Watcher` task
instead of a timer each: thousands of requests waiting for a human then cost
one wake-up per interval, not thousands.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable

from aiohttp import web

from woz.api.core.sse import ClientGone, client_gone
from woz.context import SETTINGS
from woz.dispatch.backend import Delivery
from woz.dispatch.base import TaskHandle


def await_delivery(
    request: web.Request,
    handle: TaskHandle,
    *,
    poll_s: float,
    keepalive_s: float | None = None,
    keepalive: Callable[[], Awaitable[None]] | None = None,
    on_draft: Callable[[str], Awaitable[None]] | None = None,
) -> Awaitable[Delivery]:
    """The committed answer, awaited; raises its `WozError`, or `ClientGone`.

    `keepalive` is awaited whenever `keepalive_s` passes without other output;
    `on_draft` is awaited with each new draft of a live-mode task. Without either,
    the app's `Watcher` checks the client (on its own `disconnect_poll_s` interval)
    and `poll_s` is not used; the caller then awaits the watcher directly, with no
    frame of this function kept alive for every waiting request.
    """
    if keepalive is None and on_draft is None:
        return request.app[WATCHER].wait(request, handle.outcome)
    return _await_with_output(request, handle, poll_s, keepalive_s, keepalive, on_draft)


async def _await_with_output(
    request: web.Request,
    handle: TaskHandle,
    poll_s: float,
    keepalive_s: float | None,
    keepalive: Callable[[], Awaitable[None]] | None,
    on_draft: Callable[[str], Awaitable[None]] | None,
) -> Delivery:
    """`await_delivery` for a stream: keep-alives and live drafts while it waits."""
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


class Watcher:
    """Plain waits for an answer; every `poll_s` it fails those whose client left."""

    def __init__(self, poll_s: float) -> None:
        self._poll_s = poll_s
        self._waiting: dict[asyncio.Future[None], web.Request] = {}

    async def run(self) -> None:
        """Check the waiting requests' clients until cancelled."""
        while True:
            await asyncio.sleep(self._poll_s)
            for waiter, request in list(self._waiting.items()):
                if client_gone(request) and not waiter.done():
                    waiter.set_exception(ClientGone())

    async def wait(self, request: web.Request, outcome: asyncio.Future[Delivery]) -> Delivery:
        """`outcome`'s delivery; raises its `WozError`, or `ClientGone`."""
        if not outcome.done():
            waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()

            def wake(_: object) -> None:
                if not waiter.done():
                    waiter.set_result(None)

            outcome.add_done_callback(wake)
            self._waiting[waiter] = request
            try:
                await waiter
            finally:
                del self._waiting[waiter]
                outcome.remove_done_callback(wake)
        return outcome.result()


WATCHER = web.AppKey("watcher", Watcher)


async def watch_clients(app: web.Application) -> AsyncIterator[None]:
    """`cleanup_ctx`: the app's `Watcher`, running while the app does."""
    watcher = Watcher(app[SETTINGS].disconnect_poll_s)
    app[WATCHER] = watcher
    running = asyncio.create_task(watcher.run())
    try:
        yield
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
