"""`OperatorClient`: the one Python client of operator protocol v1 (docs/operator-protocol.md).

It speaks the protocol over a real websocket (the `websockets` package) exactly as
the console does: hello, the tasks it holds (`held`, kept from the server's typed
frames, `woz.models.server_frames`), resync after a reconnect (the server re-sends
the tasks still held; through another woz process too), and every action an
operator takes. `woz.testing.ScriptedOperator` is this client with test helpers.

Every wait has a timeout, so code that expects a frame that never comes fails with
a clear message instead of hanging.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from types import TracebackType
from typing import Any, Self

from pydantic import ValidationError
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake

from woz.models.server_frames import (
    SERVER_FRAME,
    ReplyAckFrame,
    ReplyRejectedFrame,
    TaskAssignedFrame,
    TaskRevokedFrame,
    TaskView,
)

Frame = dict[str, Any]
LOST = {"already_answered", "lease_lost", "unknown_task"}  # a refusal that ends a hold


def _ends_hold(frame: object) -> bool:
    """Whether `frame` says a task is no longer this operator's to answer."""
    if isinstance(frame, ReplyRejectedFrame):
        return frame.error.code in LOST
    return isinstance(frame, TaskRevokedFrame | ReplyAckFrame)


def _ws_url(url: str) -> str:
    base = url.replace("http://", "ws://").replace("https://", "wss://").rstrip("/")
    return base + "/operator/ws"


class OperatorClient:
    """One operator's connection. `url` is the server's base, e.g. `http://127.0.0.1:8000`;
    `urls` more bases to try, in turn, when reconnecting (other woz processes)."""

    def __init__(
        self, url: str, token: str, *, timeout: float = 10.0, urls: Sequence[str] = ()
    ) -> None:
        self.urls = [url, *urls]
        self.ws_url = _ws_url(url)
        self.token = token
        # The tasks this operator holds, by id: assigned, and not yet answered, revoked
        # or refused as no longer theirs. After a reconnect, what the server re-sent.
        self.held: dict[str, TaskView] = {}
        self.unparsed: list[Frame] = []  # frames that match no type of the protocol
        self.timeout = timeout
        self.hello: Frame = {}
        self.frames: list[Frame] = []  # every frame received, in order
        self._unread: list[Frame] = []
        self._arrived = asyncio.Condition()
        self._connection: ClientConnection | None = None
        self._reader: asyncio.Task[None] | None = None
        self._auto: asyncio.Task[None] | None = None
        self.closed = False

    async def __aenter__(self) -> Self:
        await self.connect()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def connect(self) -> Frame:
        """Open the socket and wait for `hello`."""
        self.closed = False
        self._connection = await connect(
            self.ws_url,
            additional_headers={"Authorization": f"Bearer {self.token}"},
            open_timeout=self.timeout,
            max_size=64 * 1024 * 1024,  # tasks may carry images and audio
        )
        self._reader = asyncio.create_task(self._read())
        self.hello = await self.expect("hello")
        return self.hello

    async def close(self) -> None:
        if self._auto is not None:
            self._auto.cancel()
        if self._connection is not None:
            await self._connection.close()
        if self._reader is not None:
            await asyncio.gather(self._reader, return_exceptions=True)

    async def wait_closed(self, timeout: float | None = None) -> None:
        """Wait until the server has closed the socket (raises `TimeoutError` if not)."""
        if self._reader is not None:
            await asyncio.wait_for(asyncio.shield(self._reader), timeout or self.timeout)

    async def drop(self) -> None:
        """Vanish without a closing handshake, like a laptop losing its network."""
        if self._connection is not None:
            self._connection.transport.abort()
        if self._reader is not None:
            await asyncio.gather(self._reader, return_exceptions=True)

    async def _read(self) -> None:
        assert self._connection is not None
        try:
            async for message in self._connection:
                frame = json.loads(message)
                self._track(frame)
                async with self._arrived:
                    self.frames.append(frame)
                    self._unread.append(frame)
                    self._arrived.notify_all()
        except ConnectionClosed:
            pass  # `closed` tells the test; a dropped socket is not an error here
        finally:
            self.closed = True
            async with self._arrived:
                self._arrived.notify_all()

    async def send(self, frame: Frame) -> None:
        assert self._connection is not None, "connect first"
        await self._connection.send(json.dumps(frame))

    async def send_raw(self, text: str) -> None:
        assert self._connection is not None, "connect first"
        await self._connection.send(text)

    async def expect(self, frame_type: str, *, timeout: float | None = None, **match: Any) -> Frame:
        """The next unread frame of `frame_type` (and matching fields), waiting for it."""

        def find() -> Frame | None:
            for frame in self._unread:
                if frame.get("type") == frame_type and all(
                    frame.get(k) == v for k, v in match.items()
                ):
                    self._unread.remove(frame)
                    return frame
            return None

        async with self._arrived:
            try:
                async with asyncio.timeout(timeout or self.timeout):
                    while (frame := find()) is None:
                        await self._arrived.wait()
            except TimeoutError:
                seen = [f.get("type") for f in self._unread]
                raise AssertionError(
                    f"no {frame_type!r} frame within {timeout or self.timeout}s (unread: {seen})"
                ) from None
            return frame

    async def ready(self, capacity: int = 1) -> None:
        await self.send({"type": "ready", "capacity": capacity})

    async def pause(self) -> None:
        await self.send({"type": "pause"})

    async def next_task(self, timeout: float | None = None) -> Frame:
        """The next assigned task (the `task` object of `task.assigned`)."""
        frame = await self.expect("task.assigned", timeout=timeout)
        task: Frame = frame["task"]
        return task

    async def typing(self, task_id: str, text: str) -> None:
        await self.send({"type": "typing", "task_id": task_id, "text": text})

    async def reply(
        self,
        task_id: str,
        content: str | None = None,
        *,
        tool_calls: list[Frame] | None = None,
        finish_reason: str | None = None,
        transcript: str | None = None,
        wait: bool = True,
    ) -> Frame:
        """Answer a task; returns the `reply.ack` (or `reply.rejected`) frame.

        `transcript` is, for a voice turn, what the user said as the operator heard it."""
        frame: Frame = {"type": "reply", "task_id": task_id}
        if content is not None:
            frame["content"] = content
        if transcript is not None:
            frame["transcript"] = transcript
        if tool_calls is not None:
            frame["tool_calls"] = tool_calls
        if finish_reason is not None:
            frame["finish_reason"] = finish_reason
        await self.send(frame)
        if not wait:
            return {}
        return await self._outcome(task_id)

    async def _outcome(self, task_id: str) -> Frame:
        async with asyncio.timeout(self.timeout):
            while True:
                for frame in self._unread:
                    if frame.get("type") in ("reply.ack", "reply.rejected") and (
                        frame.get("task_id") == task_id
                    ):
                        self._unread.remove(frame)
                        return frame
                async with self._arrived:
                    await self._arrived.wait()

    async def release(self, task_id: str) -> None:
        await self.send({"type": "release", "task_id": task_id})

    def _track(self, frame: Frame) -> None:
        """Keep `held` as the server says; note frames the protocol does not define."""
        try:
            parsed = SERVER_FRAME.validate_python(frame)
        except ValidationError:
            self.unparsed.append(frame)
            return
        if isinstance(parsed, TaskAssignedFrame):
            self.held[parsed.task.id] = parsed.task
        elif _ends_hold(parsed):
            self.held.pop(getattr(parsed, "task_id", ""), None)

    async def reconnect(self, *, attempts: int = 20, pause_s: float = 0.25) -> list[TaskView]:
        """Connect again (through each of `urls` in turn, as a process may be gone) and
        resync: the tasks the server still holds for this operator come back, and are
        all that `held` lists then. Returns them."""
        if self._connection is not None and not self.closed:
            await self.drop()
        problem: Exception | None = None
        for attempt in range(attempts):
            self.ws_url = _ws_url(self.urls[attempt % len(self.urls)])
            self._unread.clear()
            self.held.clear()
            try:
                await self.connect()
            except (OSError, InvalidHandshake, TimeoutError) as exc:
                problem = exc
                await asyncio.sleep(pause_s)
                continue
            # The server sends the held tasks, then the queue figures: the resync's end.
            await self.expect("queue")
            return list(self.held.values())
        raise ConnectionError(f"could not reconnect to {self.urls}: {problem}")
