"""Bot operators: the subset of operator protocol v1 (DESIGN 4.2) the bench needs.

A bot connects to `/operator/ws` with a Bearer token, waits for `hello`, says
`ready` with a capacity, and then either answers every `task.assigned` at once
(the throughput scenario) or holds its tasks and reports frames with their
arrival times (the memory scenario's holder and probe). The same class talks to
woz and to the bare relay, so both see exactly the same operator behaviour.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import aiohttp

Frame = dict[str, Any]

# Frames a watching bot reports to `next_frame`.
WATCHED = frozenset({"task.assigned", "reply.ack", "reply.rejected", "error"})


class BotOperator:
    """One operator over a real websocket.

    With `answer` set, every assigned task is answered with that text the moment
    it arrives. With `answer=None` tasks are held, and watched frames are queued
    with their arrival time (`time.perf_counter()`) for `next_frame`.
    """

    def __init__(
        self,
        session: aiohttp.ClientSession,
        base_url: str,
        token: str,
        *,
        answer: str | None,
    ) -> None:
        self.ws_url = base_url.replace("http://", "ws://").rstrip("/") + "/operator/ws"
        self.session = session
        self.token = token
        self.answer = answer
        self.received = 0  # every frame, of any type
        self.assigned = 0
        self.acked = 0
        self.rejected = 0
        self.errors: list[Frame] = []
        self.waiting = 0  # the last `queue` frame's count of waiting tasks
        self.closed = False
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._reader: asyncio.Task[None] | None = None
        self._frames: asyncio.Queue[tuple[Frame, float]] = asyncio.Queue()
        self._unread: list[tuple[Frame, float]] = []
        self._queue_seen = asyncio.Event()

    async def connect(self, timeout: float = 10.0) -> float:
        """Open the socket and wait for `hello`; returns the seconds that took."""
        started = time.perf_counter()
        async with asyncio.timeout(timeout):
            self._ws = await self.session.ws_connect(
                self.ws_url,
                headers={"Authorization": f"Bearer {self.token}"},
                max_msg_size=16 * 1024 * 1024,
            )
            hello = await self._ws.receive_json()
        if hello.get("type") != "hello":
            raise RuntimeError(f"expected a hello frame, got {hello!r}")
        elapsed = time.perf_counter() - started
        self._reader = asyncio.create_task(self._read())
        return elapsed

    async def send(self, frame: Frame) -> float:
        """Send one frame; returns the `perf_counter()` time just before sending."""
        assert self._ws is not None, "connect first"
        sent_at = time.perf_counter()
        await self._ws.send_str(json.dumps(frame))
        return sent_at

    async def ready(self, capacity: int) -> float:
        return await self.send({"type": "ready", "capacity": capacity})

    async def reply(self, task_id: str, content: str) -> float:
        return await self.send({"type": "reply", "task_id": task_id, "content": content})

    async def next_frame(self, *types: str, timeout: float = 10.0) -> tuple[Frame, float]:
        """The oldest unread watched frame of one of `types`, with its arrival time.

        Frames of other types stay unread for later calls: woz may send the next
        `task.assigned` before the `reply.ack` of the reply that freed the slot.
        """
        async with asyncio.timeout(timeout):
            while True:
                for index, (frame, at) in enumerate(self._unread):
                    if frame.get("type") in types:
                        del self._unread[index]
                        return frame, at
                self._unread.append(await self._frames.get())

    async def wait_waiting(self, at_least: int, timeout: float) -> bool:
        """Wait until a `queue` frame reports `at_least` waiting tasks; False on timeout."""
        deadline = time.monotonic() + timeout
        while self.waiting < at_least and not self.closed:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            self._queue_seen.clear()
            try:
                async with asyncio.timeout(min(remaining, 0.5)):
                    await self._queue_seen.wait()
            except TimeoutError:
                continue
        return self.waiting >= at_least

    async def close(self) -> None:
        if self._ws is not None:
            await self._ws.close()
        if self._reader is not None:
            await asyncio.gather(self._reader, return_exceptions=True)

    async def _read(self) -> None:
        assert self._ws is not None
        try:
            async for message in self._ws:
                if message.type != aiohttp.WSMsgType.TEXT:
                    continue
                at = time.perf_counter()
                self.received += 1
                frame: Frame = json.loads(message.data)
                kind = frame.get("type")
                if kind == "task.assigned":
                    self.assigned += 1
                    if self.answer is not None:
                        await self.reply(frame["task"]["id"], self.answer)
                        continue
                elif kind == "reply.ack":
                    self.acked += 1
                elif kind == "reply.rejected":
                    self.rejected += 1
                elif kind == "error":
                    self.errors.append(frame)
                elif kind == "queue":
                    self.waiting = int(frame.get("waiting", 0))
                    self._queue_seen.set()
                if self.answer is None and kind in WATCHED:
                    self._frames.put_nowait((frame, at))
        finally:
            self.closed = True
            self._queue_seen.set()
