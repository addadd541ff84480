"""Operators, the queue of tasks waiting for one, and who holds which task.

The base of `woz.dispatch.rules.SharedBackend`: presence (connect, disconnect,
the reconnect grace), readiness, and assignment (`pump`, by
`woz.dispatch.policies`), each inside the caller's transaction.
"""

from __future__ import annotations

import time

import structlog

from woz.dispatch import docs
from woz.dispatch.backend import Assigned, ModelDraft, QueueStatus, Replaced, Revoked, TakenUp
from woz.dispatch.docs import OperatorDoc, TaskDoc
from woz.dispatch.kv import KeyValue, Txn
from woz.dispatch.policies import choose_operator, free_slots
from woz.models.study import RoutingSection
from woz.models.task import Task

log = structlog.get_logger(__name__)


class Assignment:
    """Presence and assignment over the shared state."""

    def __init__(self, kv: KeyValue, routing: RoutingSection) -> None:
        self._kv = kv
        self._routing = routing

    # -- presence (each its own transaction) ------------------------------------

    async def connect(self, operator: str, display_name: str, front: str) -> list[Task]:
        """A (re)connected operator gets back the tasks they held, oldest first."""
        async with self._kv.txn() as t:
            op = await t.get(docs.operator_key(operator), OperatorDoc)
            if op is None:
                op = OperatorDoc(key_id=operator, display_name=display_name)
                await t.zadd(docs.OPERATORS, operator, time.time())
            await t.zrem(docs.TIMERS, f"g:{operator}")
            if op.front is not None and op.front != front:
                t.publish(op.front, Replaced(operator=operator))  # its old socket ends there
            op.front = front
            self._put_operator(t, op)
            held = [d for d in await t.get_many(self._task_keys(op.held), TaskDoc) if d]
            held.sort(key=lambda doc: doc.queued_at)
            log.info("operator.connected", operator=operator, held=len(held))
            await self.pump(t)
            return [doc.for_operator() for doc in held]

    async def disconnect(self, operator: str, front: str) -> None:
        async with self._kv.txn() as t:
            op = await t.get(docs.operator_key(operator), OperatorDoc)
            if op is None or op.front != front:
                return  # a newer connection replaced this one
            await self.disconnected(t, op)

    async def disconnected(self, t: Txn, op: OperatorDoc) -> None:
        """An operator holding tasks keeps them for the reconnect grace, then loses them."""
        op.front = None
        if not op.held:
            t.delete(docs.operator_key(op.key_id))
            await t.zrem(docs.OPERATORS, op.key_id)
        else:
            self._put_operator(t, op)
            due = time.time() + self._routing.reconnect_grace_s
            await t.zadd(docs.TIMERS, f"g:{op.key_id}", due)
        log.info("operator.disconnected", operator=op.key_id, held=len(op.held))
        self._kv.changed()

    async def ready(self, operator: str, capacity: int) -> None:
        async with self._kv.txn() as t:
            op = await t.get(docs.operator_key(operator), OperatorDoc)
            if op is not None:
                op.ready = True
                op.capacity = max(1, capacity)
                self._put_operator(t, op)
                await self.pump(t)

    async def pause(self, operator: str) -> None:
        async with self._kv.txn() as t:
            op = await t.get(docs.operator_key(operator), OperatorDoc)
            if op is not None:
                op.ready = False
                self._put_operator(t, op)
                self._kv.changed()

    async def grace_over(self, t: Txn, operator: str) -> None:
        op = await t.get(docs.operator_key(operator), OperatorDoc)
        if op is None or op.front is not None:
            return
        t.delete(docs.operator_key(operator))
        await t.zrem(docs.OPERATORS, operator)
        log.info("operator.grace_over", operator=operator, reassigning=len(op.held))
        held = [d for d in await t.get_many(self._task_keys(op.held), TaskDoc) if d]
        for doc in sorted(held, key=lambda d: d.queued_at, reverse=True):
            doc.last_operator, doc.operator = doc.operator, None
            doc.task.attempt += 1
            doc.task.draft = doc.draft or doc.task.draft
            await self.enqueue(t, doc, front=True)
            t.put(docs.task_key(doc.task.id), doc, self._task_ttl())
        await self.pump(t)

    # -- the queue -----------------------------------------------------------

    async def operators(self, t: Txn) -> dict[str, OperatorDoc]:
        ids = await t.zall(docs.OPERATORS)  # in the order they came: ties go to the first
        found = await t.get_many([docs.operator_key(i) for i in ids], OperatorDoc)
        return {op.key_id: op for op in found if op is not None}

    async def enqueue(self, t: Txn, doc: TaskDoc, front: bool = False) -> None:
        """Put a task in line; `front` for one that already waited (released, reassigned)."""
        doc.queued_at = doc.queued_at or time.time()
        score = doc.queued_at
        if front:
            first = await t.zfirst(docs.QUEUE, 1)
            if first and first[0][1] <= score:
                score = first[0][1] - 0.001
        await t.zadd(docs.QUEUE, doc.task.id, score)
        self._kv.changed()

    async def pump(self, t: Txn) -> None:
        """Assign waiting tasks, oldest first, while some operator has a free slot.

        Strictly in order: when the oldest task cannot be assigned (every free
        operator declined it), the ones behind it wait too."""
        operators: dict[str, OperatorDoc] | None = None
        while True:
            first = await t.zfirst(docs.QUEUE, 1)
            if not first:
                break
            if operators is None:
                operators = await self.operators(t)
            candidates = [op for op in operators.values() if op.reachable and free_slots(op) > 0]
            if not candidates:
                break
            task_id = first[0][0]
            doc = await t.get(docs.task_key(task_id), TaskDoc)
            if doc is None:
                await t.zrem(docs.QUEUE, task_id)
                continue
            owner = await t.get_text(docs.owner_key(doc.task.conversation_id))
            op = choose_operator(candidates, owner, doc.declined_by)
            if op is None:
                break
            await t.zrem(docs.QUEUE, task_id)
            doc.operator = op.key_id
            first_time = doc.assigned_at is None
            doc.assigned_at = doc.assigned_at or docs.now()
            op.held.append(task_id)
            op.last_assigned = time.time()
            self._put_operator(t, op)
            t.put(docs.task_key(task_id), doc, self._task_ttl())
            t.put_text(docs.owner_key(doc.task.conversation_id), op.key_id, docs.OWNER_TTL_S)
            assert op.front is not None
            t.publish(op.front, Assigned(operator=op.key_id, task=doc.for_operator()))
            if first_time:
                for front in doc.waiters:
                    t.publish(front, TakenUp(task_id=task_id))
            log.debug("task.assigned", task_id=task_id, operator=op.key_id)
        self._kv.changed()

    # -- leases --------------------------------------------------------------

    async def unassign(self, t: Txn, doc: TaskDoc) -> OperatorDoc | None:
        """End the lease of whoever holds `doc` (remembered as its last operator)."""
        op = None
        if doc.operator is not None:
            op = await t.get(docs.operator_key(doc.operator), OperatorDoc)
        if op is not None and doc.task.id in op.held:
            op.held.remove(doc.task.id)
            self._put_operator(t, op)
        doc.last_operator = doc.operator or doc.last_operator
        doc.operator = None
        return op

    async def take_back(self, t: Txn, doc: TaskDoc, reason: str) -> None:
        """Withdraw a task from its operator (telling them why) and from the queue."""
        await t.zrem(docs.QUEUE, doc.task.id)
        op = await self.unassign(t, doc)
        if op is not None and op.front is not None:
            t.publish(op.front, Revoked(operator=op.key_id, task_id=doc.task.id, reason=reason))
        await self.pump(t)

    async def send_model_draft(
        self, t: Txn, doc: TaskDoc, text: str, done: bool, error: str | None
    ) -> None:
        """A model draft of `doc` to the operator holding it, if they are connected."""
        if doc.operator is None:
            return
        op = await t.get(docs.operator_key(doc.operator), OperatorDoc)
        if op is not None and op.front is not None:
            draft = ModelDraft(
                operator=op.key_id, task_id=doc.task.id, text=text, done=done, error=error
            )
            t.publish(op.front, draft)

    async def queue_status(self, t: Txn) -> QueueStatus:
        operators = await self.operators(t)
        first = await t.zfirst(docs.QUEUE, 1)
        oldest = 0.0
        if first:
            doc = await t.get(docs.task_key(first[0][0]), TaskDoc)
            if doc is not None:
                oldest = round(max(0.0, time.time() - doc.queued_at), 3)
        return QueueStatus(
            waiting=await t.zcard(docs.QUEUE),
            # Ready and connected: someone in their reconnect grace is not online.
            operators_online=sum(1 for op in operators.values() if op.reachable),
            oldest_wait_s=oldest,
        )

    def _put_operator(self, t: Txn, op: OperatorDoc) -> None:
        t.put(docs.operator_key(op.key_id), op, docs.OWNER_TTL_S)

    def _task_keys(self, ids: list[str]) -> list[str]:
        return [docs.task_key(i) for i in ids]

    def _task_ttl(self) -> float:
        return self._routing.answer_timeout_s + self._routing.retry_ttl_s + 300
