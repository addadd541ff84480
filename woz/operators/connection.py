"""One operator's websocket, as an `OperatorLink` the dispatcher can send to.

Sends are queued and written by a single writer task, so the dispatcher never
waits on a slow socket and frames keep their order. Replies run as tasks of
their own (`run`), so an operator's next frame is read while the previous
answer is being committed: a burst of answers shares one group commit.

The writer hands the socket one frame at a time and waits for it to drain, so
the socket's buffer holds at most about one frame beyond its high-water mark:
the server's heartbeat pings, written straight to the socket, never queue
behind our backlog. A watchdog gives up on a socket that falls too far behind
(`woz.operators.backlog`): it drops the queued frames and aborts the
connection at once (a closing frame would only wait behind the bytes the
operator is not reading), so the hub's read loop ends and the operator's tasks
enter the reconnect grace, as for any dropped socket.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

import structlog
from aiohttp import WSCloseCode, web
from pydantic import BaseModel

from woz.dispatch.backend import QueueStatus, VoiceSession
from woz.jsontext import dumps
from woz.models.protocol import task_view
from woz.models.server_frames import (
    ErrorFrame,
    QueueFrame,
    TaskAssignedFrame,
    TaskDraftFrame,
    TaskRevokedFrame,
    TaskView,
    VoiceSessionFrame,
    frame_json,
)
from woz.models.task import Task
from woz.operators.backlog import BacklogWatch, SendLimits

log = structlog.get_logger(__name__)

REPLACED_MESSAGE = "This operator connected elsewhere."
MAX_CONCURRENT = 64  # replies of one operator being committed at once
STOP_TIMEOUT_S = 5.0


class OperatorConnection:
    def __init__(
        self,
        ws: web.WebSocketResponse,
        operator_key_id: str,
        transport: asyncio.Transport | None,
        limits: SendLimits,
    ) -> None:
        self.ws = ws
        self.operator_key_id = operator_key_id
        self._transport = transport
        self._limits = limits
        self._outbox: asyncio.Queue[str | None] = asyncio.Queue()
        self._queued_bytes = 0  # of the frames in the outbox (JSON text, ASCII but for text)
        self._frames_sent = 0
        self._writing = False
        self._given_up = False
        self._writer: asyncio.Task[None] | None = None
        self._watchdog: asyncio.Task[None] | None = None
        self._running: set[asyncio.Task[None]] = set()
        self._ending: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._writer = asyncio.create_task(self._write_loop())
        self._watchdog = asyncio.create_task(self._watch())

    async def run(self, work: Coroutine[Any, Any, None]) -> None:
        """Run `work` beside the read loop, at most `MAX_CONCURRENT` at once."""
        if len(self._running) >= MAX_CONCURRENT:
            await asyncio.wait(self._running, return_when=asyncio.FIRST_COMPLETED)
        task = asyncio.create_task(work)
        self._running.add(task)
        task.add_done_callback(self._running.discard)

    async def stop(self) -> None:
        """Finish running work, flush what is queued, then stop writing.

        Bounded: a writer that cannot flush in time is given up on (the socket is
        aborted), never left pending. Running work is waited for, never
        cancelled: a reply being committed runs to its end (the dispatcher relies
        on it), its acknowledgement just may not reach a socket that is gone.
        """
        try:
            if self._running:
                await asyncio.wait(self._running, timeout=STOP_TIMEOUT_S)
            if self._writer is not None:
                self._outbox.put_nowait(None)
                await asyncio.wait({self._writer}, timeout=STOP_TIMEOUT_S)
        finally:
            if self._writer is not None and not self._writer.done():
                self._give_up("not_flushed")
                self._writer.cancel()
            if self._watchdog is not None:
                self._watchdog.cancel()

    async def close(self, code: int = WSCloseCode.OK, message: bytes = b"") -> None:
        """Close the socket with a closing handshake, or abort it if that cannot finish."""
        try:
            async with asyncio.timeout(STOP_TIMEOUT_S):
                await self.ws.close(code=code, message=message)
        except TimeoutError:
            self._give_up("close_timed_out")

    def send(self, frame_type: str, **payload: Any) -> None:
        """Queue a frame given as its type and fields (prefer `send_frame`)."""
        self._queue(dumps({"type": frame_type, **payload}))

    def _queue(self, text: str) -> None:
        if self._given_up:
            return
        self._queued_bytes += len(text)
        self._outbox.put_nowait(text)

    def send_frame(self, frame: BaseModel) -> None:
        """Queue one typed frame (`woz.models.server_frames`)."""
        self._queue(dumps(frame_json(frame)))

    def send_assigned(self, task: Task) -> None:
        self.send_frame(TaskAssignedFrame(task=TaskView(**task_view(task))))

    def send_revoked(self, task_id: str, reason: str) -> None:
        self.send_frame(TaskRevokedFrame(task_id=task_id, reason=reason))

    def send_queue(self, status: QueueStatus) -> None:
        self.send_frame(QueueFrame(**status.model_dump()))

    def send_draft(self, task_id: str, text: str, *, done: bool, error: str | None) -> None:
        self.send_frame(TaskDraftFrame(task_id=task_id, text=text, done=done, error=error))

    def send_replaced(self) -> None:
        """Told by the dispatcher: the operator connected again through another process."""
        self._ending = asyncio.create_task(self.end_replaced())

    async def end_replaced(self) -> None:
        """This socket is stale: say `replaced`, finish its running work, and close it.
        The read loop then ends; the operator's tasks stay with their new socket."""
        log.info("operator.replaced", operator=self.operator_key_id)
        self.send_frame(ErrorFrame(code="replaced", message=REPLACED_MESSAGE))
        await self.stop()
        await self.close()

    def send_voice_session(self, notice: VoiceSession) -> None:
        self.send_frame(
            VoiceSessionFrame(
                session_id=notice.session_id,
                conversation_id=notice.conversation_id,
                model=notice.model,
                participant=notice.participant,
            )
        )

    async def _write_loop(self) -> None:
        while (text := await self._outbox.get()) is not None:
            self._queued_bytes -= len(text)
            if self.ws.closed:
                continue
            self._writing = True
            try:
                await self.ws.send_str(text)
            except (ConnectionResetError, RuntimeError):
                log.info("operator.write_failed", operator=self.operator_key_id)
            finally:
                self._writing = False
            self._frames_sent += 1

    async def _watch(self) -> None:
        """Every few moments, see whether the socket keeps up; give up on it if not."""
        watch = BacklogWatch(self._limits)
        while not self._given_up:
            await asyncio.sleep(self._limits.check_every_s)
            problem = watch.check(
                waiting=self._writing or self._queued_bytes > 0,
                frames_sent=self._frames_sent,
                queued=self._queued_bytes,
                buffered=self._buffered(),
            )
            if problem is not None:
                self._give_up(problem)

    def _buffered(self) -> int:
        """Bytes handed to the socket that it has not sent yet."""
        return 0 if self._transport is None else self._transport.get_write_buffer_size()

    def _give_up(self, reason: str) -> None:
        """Drop every queued frame and abort the connection: its read loop ends at once."""
        if self._given_up:
            return
        self._given_up = True
        log.warning(
            "operator.socket_given_up",
            operator=self.operator_key_id,
            reason=reason,
            queued_bytes=self._queued_bytes,
            buffered_bytes=self._buffered(),
        )
        while not self._outbox.empty():
            self._outbox.get_nowait()
        self._queued_bytes = 0
        self._outbox.put_nowait(None)  # the writer ends once its current frame fails
        if self._transport is not None:
            self._transport.abort()
