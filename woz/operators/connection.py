"""One operator's websocket, as an `OperatorLink` the dispatcher can send to.

Sends are queued and written by a single writer task, so the dispatcher never
waits on a slow socket and frames keep their order. Replies run as tasks of
their own (`run`), so an operator's next frame is read while the previous
answer is being committed: a burst of answers shares one group commit.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

import structlog
from aiohttp import web

from woz.dispatch.base import QueueStatus
from woz.jsontext import dumps
from woz.models.protocol import task_view
from woz.models.task import Task

log = structlog.get_logger(__name__)

MAX_CONCURRENT = 64  # replies of one operator being committed at once
STOP_TIMEOUT_S = 5.0


class OperatorConnection:
    def __init__(self, ws: web.WebSocketResponse, operator_key_id: str) -> None:
        self.ws = ws
        self.operator_key_id = operator_key_id
        self._outbox: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()
        self._writer: asyncio.Task[None] | None = None
        self._running: set[asyncio.Task[None]] = set()

    def start(self) -> None:
        self._writer = asyncio.create_task(self._write_loop())

    async def run(self, work: Coroutine[Any, Any, None]) -> None:
        """Run `work` beside the read loop, at most `MAX_CONCURRENT` at once."""
        if len(self._running) >= MAX_CONCURRENT:
            await asyncio.wait(self._running, return_when=asyncio.FIRST_COMPLETED)
        task = asyncio.create_task(work)
        self._running.add(task)
        task.add_done_callback(self._running.discard)

    async def stop(self) -> None:
        """Finish running work, flush what is queued, then stop writing.

        Bounded: a writer stuck on a dead socket is cancelled, never left pending.
        Running work is waited for, never cancelled: a reply being committed runs
        to its end (the dispatcher relies on it), its acknowledgement just may not
        reach a socket that is gone.
        """
        if self._running:
            await asyncio.wait(self._running, timeout=STOP_TIMEOUT_S)
        try:
            async with asyncio.timeout(STOP_TIMEOUT_S):
                self._outbox.put_nowait(None)
                if self._writer is not None:
                    await self._writer
        finally:
            if self._writer is not None and not self._writer.done():
                self._writer.cancel()

    def send(self, frame_type: str, **payload: Any) -> None:
        self._outbox.put_nowait({"type": frame_type, **payload})

    def send_assigned(self, task: Task) -> None:
        self.send("task.assigned", task=task_view(task))

    def send_revoked(self, task_id: str, reason: str) -> None:
        self.send("task.revoked", task_id=task_id, reason=reason)

    def send_queue(self, status: QueueStatus) -> None:
        self.send("queue", **status.model_dump())

    def send_draft(self, task_id: str, text: str, *, done: bool, error: str | None) -> None:
        self.send("task.draft", task_id=task_id, text=text, done=done, error=error)

    async def _write_loop(self) -> None:
        while (frame := await self._outbox.get()) is not None:
            if self.ws.closed:
                continue
            try:
                await self.ws.send_str(dumps(frame))
            except (ConnectionResetError, RuntimeError):
                log.info("operator.write_failed", operator=self.operator_key_id)
