"""`SharedBackend`: the `Backend` for one process (over `MemoryKeyValue`) or many
(over Redis): the task rules (`woz.dispatch.rules`), the figures a watching
researcher and the operators see, and the fronts' comings and goings (heartbeats,
a dead process's leftovers, a Redis that restarted empty).
"""

from __future__ import annotations

import asyncio
import time

import structlog

from woz.dispatch import docs
from woz.dispatch.backend import QueueStatus
from woz.dispatch.docs import TaskDoc
from woz.dispatch.rules import TaskRules
from woz.dispatch.voice import VoiceRouting
from woz.models.live import LiveDispatch
from woz.models.record import RecordStatus
from woz.models.task import Task, new_id

log = structlog.get_logger(__name__)

# A front whose heartbeat is this old is taken for dead. Generous: a loop busy with
# thousands of requests at once must not be; a killed process is noticed in this time.
HEARTBEAT_TTL_S = 10.0


class SharedBackend(TaskRules, VoiceRouting):
    """The dispatcher's backend; see the module docstring."""

    # -- figures ---------------------------------------------------------------

    async def status(self) -> QueueStatus:
        async with self._kv.snapshot() as t:
            return await self.queue_status(t)

    async def task(self, task_id: str) -> Task | None:
        async with self._kv.snapshot() as t:
            doc = await t.get(docs.task_key(task_id), TaskDoc)
        return doc.task if doc is not None and not doc.finished else None

    async def live(self, max_tasks: int, participant: str | None) -> LiveDispatch:
        """Operators present and the `max_tasks` oldest tasks someone waits for.

        A task whose client left is only kept for a retry: nobody is waiting on it."""
        async with self._kv.snapshot() as t:
            operators = await self.operators(t)
            ids = await t.zall(docs.IN_FLIGHT)
            watched: list[TaskDoc] = []
            for doc in await t.get_many([docs.task_key(i) for i in ids], TaskDoc):
                if doc is None or doc.finished or doc.waiting == 0:
                    continue
                if participant in (None, doc.task.participant):
                    watched.append(doc)

        def connected(key_id: str | None) -> bool:
            op = operators.get(key_id or "")
            return op is not None and op.front is not None

        return LiveDispatch(
            operators=[op.live() for op in operators.values()],
            tasks=[doc.live(connected(doc.operator)) for doc in watched[:max_tasks]],
            in_flight=len(watched),
        )

    # -- fronts coming and going ---------------------------------------------------

    async def epoch(self) -> str:
        """The id of the shared state's life: a Redis that restarted empty has a new one."""
        async with self._kv.txn() as t:
            current = await t.get_text(docs.EPOCH) or new_id("epoch_", 8)
            t.put_text(docs.EPOCH, current, docs.EPOCH_TTL_S)  # renewed on every look
            return current

    async def restore(self, task: Task, front: str, waiters: int, history: str) -> None:
        """A request still waiting on `front` whose task the shared state lost (its Redis
        restarted empty), or gave up on (`front` was taken for gone): queued again,
        first in line, under the same id."""
        async with self._kv.txn() as t:
            doc = await t.get(docs.task_key(task.id), TaskDoc)
            if doc is not None:
                if doc.waiters.get(front, 0) < waiters:
                    revive = doc.waiting == 0 and not doc.finished and not doc.answering
                    doc.waiters[front] = waiters
                    if revive:  # taken back when this front was taken for gone
                        await t.zrem(docs.TIMERS, f"a:{task.id}")
                        await self.enqueue(t, doc, front=True)
                    await self._track(t, doc)
                    self._put(t, doc)
                    await self.pump(t)
                return
            doc = TaskDoc(task=task, history=history, waiters={front: waiters})
            await t.zadd(docs.request_key(task.request_key), task.id, time.time(), self._task_ttl_s)
            due = task.deadline.timestamp() if task.deadline else time.time()
            await t.zadd(docs.TIMERS, f"d:{task.id}", due)
            await t.zadd(docs.IN_FLIGHT, task.id, time.time())
            await self._track(t, doc)
            await self._add_waiter_index(t, front, task.id)
            await self.enqueue(t, doc, front=True)
            self._put(t, doc)
            log.warning("task.restored", task_id=task.id)
            await self.pump(t)

    async def sweep(self, front: str) -> bool:
        """Renew `front`'s heartbeat and end the part of fronts whose heartbeat ran out.

        Returns whether `front` was unknown: at its first sweep, or after others took it
        for dead (a loop stalled past the heartbeat's TTL); it then says again what it
        holds (`Front._restore`)."""
        if not self._kv.shared:
            return False
        await self._kv.heartbeat(docs.front_alive(front), HEARTBEAT_TTL_S)
        async with self._kv.txn() as t:
            others = await t.smembers(docs.FRONTS)
            await t.sadd(docs.FRONTS, front)
        for other in others - {front}:
            if not await self._kv.alive(docs.front_alive(other)):
                log.warning("dispatch.front_gone", front=other)
                await self._drop_front(other, expire=False)
        return front not in others

    async def close_front(self, front: str) -> None:
        await self._drop_front(front, expire=True)

    async def _drop_front(self, front: str, *, expire: bool) -> None:
        """End `front`'s part: its operators lose their sockets, its requests are gone
        (as expired when it shuts down, as clients gone when it died)."""
        async with self._kv.txn() as t:
            for op in (await self.operators(t)).values():
                if op.front == front:
                    await self.disconnected(t, op)
            if self._kv.shared:
                ids = list(await t.smembers(docs.front_tasks(front)))
            else:
                ids = await t.zall(docs.IN_FLIGHT)
            for doc in await t.get_many([docs.task_key(i) for i in ids], TaskDoc):
                if doc is None or doc.waiters.pop(front, 0) == 0:
                    continue
                await self._track(t, doc)
                if doc.waiting > 0 or doc.finished or doc.answering:
                    self._put(t, doc)
                elif expire:
                    doc.finished = True
                    await self._forget(t, doc)
                    self._spawn(
                        self._recorder.unanswered(
                            doc.task, doc.operator, RecordStatus.EXPIRED, doc.timings()
                        )
                    )
                else:
                    await self._client_gone(t, doc)
            t.delete(docs.front_tasks(front))
            await t.srem(docs.FRONTS, front)

    async def close(self) -> None:
        if self._background:
            await asyncio.gather(*self._background, return_exceptions=True)
