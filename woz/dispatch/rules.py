"""`TaskRules`: the dispatcher's rules, written once over the key-value seam.

Each call is one transaction on the shared state (`woz.dispatch.kv`), so two
processes never interleave halfway through a decision; what another front must
do (send a task to an operator it holds, wake the requests waiting there) goes
to it as an event. The store is never awaited inside a transaction: records
are written beside it (`_spawn`), or by the front that asked.

Operators, leases and assignment are `woz.dispatch.assignment`'s; a task's life
(joining, answering, expiring, forgetting) is decided here.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Coroutine
from datetime import timedelta
from typing import Any

import structlog

from woz.dispatch import docs
from woz.dispatch.assignment import Assignment
from woz.dispatch.backend import (
    Delivery,
    Draft,
    ErrorInfo,
    Expiring,
    Joined,
    Outcome,
    Replayed,
    ReplyContext,
    Started,
)
from woz.dispatch.base import Recorder, Rejected
from woz.dispatch.docs import SettledDoc, TaskDoc
from woz.dispatch.kv import KeyValue, Txn
from woz.dispatch.retries import check_same_request, pick
from woz.errors import ErrorKind, Unavailable, WozError
from woz.models.record import RecordStatus
from woz.models.study import RoutingSection
from woz.models.task import Task, new_id

log = structlog.get_logger(__name__)

DUE_BATCH = 200  # timers run per transaction
ANSWERING_RECHECK_S = 1.0  # a deadline met while an answer is being committed looks again


class TaskRules(Assignment):
    """A task's life over the shared state; `woz.dispatch.shared.SharedBackend` adds the
    figures and the fronts' comings and goings."""

    def __init__(self, kv: KeyValue, routing: RoutingSection, recorder: Recorder) -> None:
        super().__init__(kv, routing)
        self._recorder = recorder
        self._background: set[asyncio.Task[None]] = set()
        self._task_ttl_s = routing.answer_timeout_s + routing.retry_ttl_s + 300

    # -- requests ------------------------------------------------------------

    async def join(self, task: Task, front: str) -> Joined | Replayed | None:
        if not task.may_join:
            return None
        async with self._kv.txn() as t:
            return await self._join(t, task, front)

    async def start(
        self, task: Task, front: str, continues: str | None, history: str
    ) -> Joined | Replayed | Started:
        routing = self._routing
        async with self._kv.txn() as t:
            if task.may_join:  # a request it may join got in during admission
                joined = await self._join(t, task, front)
                if joined is not None:
                    return joined
            await self._check_in_flight(t, task.participant)
            if task.mode != "model":
                operators = await self.operators(t)
                if not any(op.ready for op in operators.values()):
                    raise Unavailable(
                        "No operator is online to answer right now.",
                        code="no_operator_online",
                        retry_after=routing.retry_after_s,
                    )
                if await t.zcard(docs.QUEUE) >= routing.queue_limit:
                    raise Unavailable(
                        "The queue of requests waiting for an operator is full.",
                        code="queue_full",
                        retry_after=routing.retry_after_s,
                    )
            if not task.conversation_id and continues is not None:
                task.conversation_id = await t.get_text(docs.continuation_key(continues)) or ""
            task.conversation_id = task.conversation_id or new_id("conv_")
            task.deadline = task.received_at + timedelta(seconds=routing.answer_timeout_s)
            doc = TaskDoc(task=task, history=history, waiters={front: 1})
            await t.zadd(docs.request_key(task.request_key), task.id, time.time(), self._task_ttl_s)
            await t.zadd(docs.TIMERS, f"d:{task.id}", time.time() + routing.answer_timeout_s)
            await t.zadd(docs.IN_FLIGHT, task.id, time.time())
            await self._track(t, doc)
            await self._add_waiter_index(t, front, task.id)
            if task.mode == "model":
                doc.answering = True
                self._put(t, doc)
                log.debug("task.to_model", task_id=task.id, upstream=task.upstream)
            else:
                await self.enqueue(t, doc)
                self._put(t, doc)
                log.debug("task.queued", task_id=task.id, persona=task.persona, api=task.api)
                await self.pump(t)
            # Events of this transaction reach the front before its request is registered
            # there: whether the task went straight to an operator is said here too.
            return Started(task=task, taken_up=doc.taken_up)

    async def _join(self, t: Txn, task: Task, front: str) -> Joined | Replayed | None:
        """A retry joins the task of the request it retries, in flight or recently
        answered (`woz.dispatch.retries`)."""
        target = await self._target(t, task)
        if target is None:
            return None
        if isinstance(target, SettledDoc):
            self._replayed(target.task_id, target.delivery.record_id)
            return Replayed(task_id=target.task_id, delivery=target.delivery)
        doc = target
        if doc.finished and doc.delivery is not None:
            # Answered, and still being sent to the requests that waited for it.
            self._replayed(doc.task.id, doc.delivery.record_id)
        elif doc.waiting == 0 and not doc.finished and not doc.answering:
            # Its client left and the task was taken back; the retry revives it.
            await t.zrem(docs.TIMERS, f"a:{doc.task.id}")
            await self.enqueue(t, doc, front=True)
        doc.waiters[front] = doc.waiters.get(front, 0) + 1
        await self._add_waiter_index(t, front, doc.task.id)
        await self._track(t, doc)
        self._put(t, doc)
        log.debug("task.joined", task_id=doc.task.id, waiters=doc.waiting)
        await self.pump(t)
        doc = await t.get(docs.task_key(doc.task.id), TaskDoc) or doc  # as the pump left it
        return Joined(task=doc.task, draft=doc.draft, taken_up=doc.taken_up, delivery=doc.delivery)

    async def _target(self, t: Txn, task: Task) -> TaskDoc | SettledDoc | None:
        key = task.request_key
        in_flight: list[TaskDoc] = []
        for task_id in await t.zall(docs.request_key(key)):
            doc = await t.get(docs.task_key(task_id), TaskDoc)
            if doc is None:
                await t.zrem(docs.request_key(key), task_id)  # expired with its TTL
            else:
                in_flight.append(doc)
        answers: list[SettledDoc] = []
        for task_id in reversed(await t.zall(docs.settled_by_request(key))):
            settled = await t.get(docs.settled_key(task_id), SettledDoc)
            if settled is None:
                await t.zrem(docs.settled_by_request(key), task_id)
            else:
                answers.append(settled)
        target = pick(in_flight, answers)
        if isinstance(target, SettledDoc):
            check_same_request(target.request_digest, task)
        elif target is not None:
            check_same_request(target.task.request_digest, task)
        return target

    async def finish(self, task_id: str, front: str, delivered: bool) -> None:
        async with self._kv.txn() as t:
            doc = await t.get(docs.task_key(task_id), TaskDoc)
            if doc is None:
                await self._finish_replay(t, task_id, delivered)
                return
            count = doc.waiters.get(front, 0) - 1
            if count > 0:
                doc.waiters[front] = count
            else:
                doc.waiters.pop(front, None)
                await self._remove_waiter_index(t, front, task_id)
            await self._track(t, doc)
            if doc.finished:
                first_delivery = delivered and not doc.delivered
                doc.delivered = doc.delivered or delivered
                if doc.waiting == 0:
                    await self._settle(t, doc)
                else:
                    self._put(t, doc)
                if doc.delivery is None:
                    return
                if first_delivery:
                    self._recorder.delivered(doc.delivery.record_id, True, docs.now())
                elif doc.waiting == 0 and not doc.delivered:
                    self._recorder.delivered(doc.delivery.record_id, False, docs.now())
                return
            if doc.waiting > 0 or doc.answering:
                # A reply being committed will find no waiter and mark it client_gone.
                self._put(t, doc)
                return
            await self._client_gone(t, doc)

    async def _client_gone(self, t: Txn, doc: TaskDoc) -> None:
        log.debug("task.client_gone", task_id=doc.task.id)
        await self.take_back(t, doc, "client_gone")
        await t.zadd(docs.TIMERS, f"a:{doc.task.id}", time.time() + self._routing.retry_ttl_s)
        self._put(t, doc)
        self._spawn(
            self._recorder.unanswered(
                doc.task, doc.last_operator, RecordStatus.CLIENT_GONE, doc.timings()
            )
        )

    async def _finish_replay(self, t: Txn, task_id: str, delivered: bool) -> None:
        """A replayed answer reached its retry (or not): the record is delivered if it
        was not yet."""
        settled = await t.get(docs.settled_key(task_id), SettledDoc)
        if settled is not None and delivered and not settled.delivered:
            settled.delivered = True
            t.put(docs.settled_key(task_id), settled, self._routing.retry_ttl_s)
            self._recorder.delivered(settled.delivery.record_id, True, docs.now())

    # -- operators' actions on tasks -------------------------------------------

    async def typing(self, operator: str, task_id: str, text: str) -> None:
        async with self._kv.txn() as t:
            doc = await self._held_by(t, operator, task_id)
            if doc.first_keystroke_at is None and text:
                doc.first_keystroke_at = docs.now()
            doc.draft = text
            self._put(t, doc)
            if doc.task.drafts_heard:
                for front in doc.waiters:
                    t.publish(front, Draft(task_id=task_id, text=text))

    async def streamed(self, task_id: str, text: str) -> None:
        async with self._kv.txn() as t:
            doc = await t.get(docs.task_key(task_id), TaskDoc)
            if doc is not None and not doc.finished:
                doc.streamed = text
                self._put(t, doc)

    async def model_draft(
        self,
        task_id: str,
        text: str,
        done: bool,
        error: str | None,
        source: str,
        failure: str | None = None,
    ) -> bool:
        async with self._kv.txn() as t:
            doc = await t.get(docs.task_key(task_id), TaskDoc)
            if doc is None or doc.finished:
                return False
            doc.draft_source = source
            if text:
                doc.model_draft = text
            if error is not None:
                doc.draft_error = f"draft {failure or error}"
            elif done:
                doc.model_draft = text
                doc.task.draft = text
            self._put(t, doc)
            await self.send_model_draft(t, doc, text, done, error)
            return True

    async def begin_reply(self, operator: str, task_id: str) -> ReplyContext:
        async with self._kv.txn() as t:
            doc = await self._held_by(t, operator, task_id)
            doc.answering = True
            self._put(t, doc)
            return ReplyContext(
                task=doc.task,
                timings=doc.timings(),
                streamed=doc.streamed,
                model_draft=doc.model_draft,
                draft_source=doc.draft_source,
                draft_error=doc.draft_error,
            )

    async def abort_reply(self, task_id: str) -> None:
        async with self._kv.txn() as t:
            doc = await t.get(docs.task_key(task_id), TaskDoc)
            if doc is not None and not doc.finished:
                doc.answering = False
                self._put(t, doc)

    async def complete(self, task_id: str, delivery: Delivery) -> bool:
        async with self._kv.txn() as t:
            doc = await t.get(docs.task_key(task_id), TaskDoc)
            if doc is None or doc.finished:
                return False
            await self.unassign(t, doc)
            doc.answering = False
            doc.finished = True
            doc.delivery = delivery
            await t.zrem(docs.TIMERS, f"d:{task_id}")
            answer = delivery.answer.as_message()
            key = docs.continuation_key(docs.continuation(doc.history, answer))
            t.put_text(key, doc.task.conversation_id, docs.OWNER_TTL_S)
            for front in doc.waiters:
                t.publish(front, Outcome(task_id=task_id, delivery=delivery))
            await self._track(t, doc)
            waited = doc.waiting > 0
            if waited:
                self._put(t, doc)
            else:  # its client left while the answer was being committed
                await self._settle(t, doc)
                self._recorder.delivered(delivery.record_id, False, docs.now())
            await self.pump(t)
            return waited

    async def fail(self, task_id: str, error: WozError) -> None:
        """End a task without an answer; a retry of its request starts afresh."""
        async with self._kv.txn() as t:
            doc = await t.get(docs.task_key(task_id), TaskDoc)
            if doc is None or doc.finished:
                return
            doc.answering = False
            doc.finished = True
            for front in doc.waiters:
                t.publish(front, Outcome(task_id=task_id, error=ErrorInfo.of(error)))
            await self._forget(t, doc)

    async def release(self, operator: str, task_id: str) -> None:
        async with self._kv.txn() as t:
            doc = await self._held_by(t, operator, task_id)
            await self.unassign(t, doc)
            if operator not in doc.declined_by:
                doc.declined_by.append(operator)
            doc.task.draft = doc.draft or doc.task.draft
            await self.enqueue(t, doc, front=True)
            self._put(t, doc)
            await self.pump(t)

    async def _held_by(self, t: Txn, operator: str, task_id: str) -> TaskDoc:
        doc = await t.get(docs.task_key(task_id), TaskDoc)
        if doc is None:
            raise Rejected("unknown_task", "That task does not exist (any more).")
        if doc.finished or doc.answering:
            raise Rejected("already_answered", "That task has already been answered.")
        if doc.operator != operator:
            raise Rejected("lease_lost", "That task is no longer assigned to you.")
        return doc

    # -- timers --------------------------------------------------------------

    async def expire_due(self, front: str) -> tuple[list[Expiring], float | None]:
        first = await self._kv.first_score(docs.TIMERS)
        if first is None or first > time.time():
            return [], first
        expiring: list[Expiring] = []
        async with self._kv.txn() as t:
            for member in await t.zdue(docs.TIMERS, time.time(), DUE_BATCH):
                await t.zrem(docs.TIMERS, member)
                kind, _, name = member.partition(":")
                if kind == "g":
                    await self.grace_over(t, name)
                elif kind == "a":
                    doc = await t.get(docs.task_key(name), TaskDoc)
                    if doc is not None and doc.waiting == 0:
                        await self._forget(t, doc)
                elif kind == "d":
                    found = await self._deadline(t, name)
                    if found is not None:
                        expiring.append(found)
            first_due = await t.zfirst(docs.TIMERS, 1)
        return expiring, first_due[0][1] if first_due else None

    async def _deadline(self, t: Txn, task_id: str) -> Expiring | None:
        doc = await t.get(docs.task_key(task_id), TaskDoc)
        if doc is None or doc.finished:
            return None
        if doc.answering:  # look again once the commit has ended, one way or the other
            await t.zadd(docs.TIMERS, f"d:{task_id}", time.time() + ANSWERING_RECHECK_S)
            return None
        if doc.waiting == 0:
            await self._forget(t, doc)
            return None
        doc.answering = True
        await self.take_back(t, doc, "expired")
        self._put(t, doc)
        return Expiring(task=doc.task, timings=doc.timings(), last_operator=doc.last_operator)

    # -- internals -------------------------------------------------------------

    def _put(self, t: Txn, doc: TaskDoc) -> None:
        t.put(docs.task_key(doc.task.id), doc, self._task_ttl_s)

    async def _add_waiter_index(self, t: Txn, front: str, task_id: str) -> None:
        if self._kv.shared:  # one process needs no index of its own requests
            await t.sadd(docs.front_tasks(front), task_id)

    async def _remove_waiter_index(self, t: Txn, front: str, task_id: str) -> None:
        if self._kv.shared:
            await t.srem(docs.front_tasks(front), task_id)

    async def _check_in_flight(self, t: Txn, participant: str | None) -> None:
        """The 429 past the study's `max_in_flight_per_participant` (see `woz.dispatch.
        retries` for why a retry that joins is not counted)."""
        limit = self._routing.max_in_flight_per_participant
        if participant is None or await t.scard(docs.participant_key(participant)) < limit:
            return
        raise WozError(
            ErrorKind.RATE_LIMIT,
            f"This participant already has {limit} requests waiting for an operator "
            "(the study's max_in_flight_per_participant); wait for an answer, then retry.",
            code="rate_limit_exceeded",
            retry_after=self._routing.retry_after_s,
        )

    async def _track(self, t: Txn, doc: TaskDoc) -> None:
        """Count the task as in flight for its participant while someone waits for it."""
        participant = doc.task.participant
        if participant is None:
            return
        key = docs.participant_key(participant)
        if not doc.finished and doc.waiting > 0:
            await t.sadd(key, doc.task.id, self._task_ttl_s)
        else:
            await t.srem(key, doc.task.id)

    async def _settle(self, t: Txn, doc: TaskDoc) -> None:
        """Every waiting request has had the answer: keep only what a retry needs."""
        await self._forget(t, doc)
        if doc.delivery is None:
            return
        ttl = self._routing.retry_ttl_s
        if ttl <= 0:
            return
        settled = SettledDoc(
            task_id=doc.task.id,
            request_key=doc.task.request_key,
            request_digest=doc.task.request_digest,
            delivery=doc.delivery,
            delivered=doc.delivered,
        )
        t.put(docs.settled_key(doc.task.id), settled, ttl)
        await t.zadd(docs.settled_by_request(doc.task.request_key), doc.task.id, time.time(), ttl)

    async def _forget(self, t: Txn, doc: TaskDoc) -> None:
        task_id = doc.task.id
        t.delete(docs.task_key(task_id))
        if doc.task.participant is not None:
            await t.srem(docs.participant_key(doc.task.participant), task_id)
        await t.zrem(docs.QUEUE, task_id)
        await t.zrem(docs.request_key(doc.task.request_key), task_id)
        await t.zrem(docs.TIMERS, f"d:{task_id}")
        await t.zrem(docs.TIMERS, f"a:{task_id}")
        await t.zrem(docs.IN_FLIGHT, task_id)
        for front in doc.waiters:
            await self._remove_waiter_index(t, front, task_id)
        self._kv.changed()

    def _replayed(self, task_id: str, record_id: str) -> None:
        """An answer already given goes to a retry: logged, and counted on its record."""
        log.debug("task.replayed", task_id=task_id, record_id=record_id)
        self._recorder.replayed(record_id)

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        task.add_done_callback(_log_failure)


def _log_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("dispatcher.background_failed", error=repr(task.exception()))
