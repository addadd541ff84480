"""The in-memory dispatcher: one process, every task and operator in dicts.

All state changes happen synchronously on the event loop, so no two actions
interleave halfway; the only awaits are the store commits in `reply`, deadline
expiry and delivery, guarded by the `answering` flag of the task. Operators, the
queue and assignment are the `OperatorPool`'s; a task's life is decided here.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from datetime import timedelta
from typing import Any

import structlog

from woz.dispatch.base import (
    Admission,
    Delivery,
    OperatorIdentity,
    OperatorLink,
    QueueStatus,
    Recorder,
    Rejected,
    TaskHandle,
)
from woz.dispatch.conversations import ConversationIndex
from woz.dispatch.deadlines import Deadlines
from woz.dispatch.limits import InFlight
from woz.dispatch.model_work import ModelWork, upstream_failed, with_provenance
from woz.dispatch.operator_pool import OperatorPool
from woz.dispatch.retries import Retries
from woz.dispatch.settled import Settled
from woz.dispatch.state import TaskState, fail_outcome, live_tasks, now
from woz.dispatch.validation import check_reply
from woz.errors import TaskExpired, Unavailable, WozError
from woz.models.live import LiveDispatch
from woz.models.record import RecordStatus
from woz.models.study import RoutingSection
from woz.models.task import Answer, ProducedBy, Task, new_id
from woz.upstream import ModelBackend, UpstreamError

log = structlog.get_logger(__name__)


class MemoryDispatcher:
    """`Dispatcher` for a single woz process."""

    def __init__(
        self,
        routing: RoutingSection,
        recorder: Recorder,
        admit: Admission | None = None,
        models: ModelBackend | None = None,
    ) -> None:
        self._routing = routing
        self._recorder = recorder
        self._admit = admit
        self._tasks: dict[str, TaskState] = {}
        self._pool = OperatorPool(routing.reconnect_grace_s, self._tasks.__getitem__)
        self._models_work = ModelWork(models, self._pool.send_draft)
        self._retries = Retries(routing.retry_ttl_s, self._tasks, recorder)
        self._conversations = ConversationIndex()
        self._background: set[asyncio.Task[None]] = set()
        self._in_flight = InFlight(routing.max_in_flight_per_participant, routing.retry_after_s)
        self._answer_deadlines = Deadlines(routing.answer_timeout_s, self._on_deadline)
        # A task whose client left is kept this long for a retry to revive it.
        self._abandoned = Deadlines(routing.retry_ttl_s, self._forget)

    # -- the facade's side ---------------------------------------------------

    async def submit(self, task: Task) -> TaskHandle:
        joined = self._join(task)
        if joined is not None:
            return joined
        if self._admit is not None:
            task = await self._admit(task)
            joined = self._join(task)  # a request it may join got in meanwhile
            if joined is not None:
                return joined
        self._in_flight.check(task.participant)
        if task.mode == "model":
            return self._start(task, by_model=True)
        if not self._pool.anyone_ready():
            raise Unavailable(
                "No operator is online to answer right now.",
                code="no_operator_online",
                retry_after=self._routing.retry_after_s,
            )
        if self._pool.waiting >= self._routing.queue_limit:
            raise Unavailable(
                "The queue of requests waiting for an operator is full.",
                code="queue_full",
                retry_after=self._routing.retry_after_s,
            )
        return self._start(task, by_model=False)

    def _start(self, task: Task, by_model: bool) -> TaskHandle:
        continued, history = self._conversations.follow(task.scope, task.messages)
        task.conversation_id = task.conversation_id or continued or new_id("conv_")
        task.deadline = task.received_at + timedelta(seconds=self._routing.answer_timeout_s)
        outcome = asyncio.get_running_loop().create_future()
        state = TaskState(task=task, outcome=outcome, history=history)
        self._answer_deadlines.set(task.id)
        self._tasks[task.id] = state
        self._retries.started(task)
        self._track(state)
        if by_model:
            state.answering = True
            self._spawn(self._answer_by_model(state))
            log.info("task.to_model", task_id=task.id, upstream=task.upstream)
        else:
            if task.mode == "assist" and task.upstream:
                state.drafting = asyncio.create_task(self._models_work.draft(state))
            self._pool.enqueue(state)
            log.info("task.queued", task_id=task.id, persona=task.persona, api=task.api)
            self._pool.pump()
        return TaskHandle(task, state.outcome, state.drafts, state.taken_up)

    def _join(self, task: Task) -> TaskHandle | None:
        """A retry joins the task of the request it retries, in flight or recently
        answered (`woz.dispatch.retries`); any other request is a new task."""
        target = self._retries.target(task)
        if target is None:
            return None
        if isinstance(target, Settled):
            return self._retries.replay(task, target)
        state = target
        if state.finished and state.record_id is not None:
            # Answered, and still being sent to the requests that waited for it.
            self._retries.replayed(state.task.id, state.record_id)
        elif state.waiters == 0 and not state.finished and not state.answering:
            # Its client left and the task was taken back; the retry revives it.
            self._abandoned.cancel(state.task.id)
            self._pool.enqueue(state, front=True)
        state.waiters += 1
        self._track(state)
        log.info("task.joined", task_id=state.task.id, waiters=state.waiters)
        self._pool.pump()
        return TaskHandle(state.task, state.outcome, state.drafts, state.taken_up)

    def finish(self, handle: TaskHandle, delivered: bool) -> None:
        state = self._tasks.get(handle.task.id)
        if state is None:
            self._retries.finish_replay(handle, delivered)
            return
        state.waiters -= 1
        self._track(state)
        if state.finished:
            first_delivery = delivered and not state.delivered
            state.delivered = state.delivered or delivered
            if state.waiters == 0:
                self._settle(state)
            if state.record_id is None:
                return
            if first_delivery:
                self._recorder.delivered(state.record_id, True, now())
            elif state.waiters == 0 and not state.delivered:
                self._recorder.delivered(state.record_id, False, now())
            return
        if state.waiters > 0:
            return
        if state.answering:
            return  # the reply being committed will find no waiter and mark it client_gone
        log.info("task.client_gone", task_id=state.task.id)
        self._pool.take_back(state, "client_gone")
        self._abandoned.set(state.task.id)
        self._spawn(
            self._recorder.unanswered(
                state.task, state.last_operator, RecordStatus.CLIENT_GONE, state.timings()
            )
        )

    # -- the operator hub's side -----------------------------------------------

    def connect(self, operator: OperatorIdentity, link: OperatorLink) -> None:
        self._pool.connect(operator, link)

    def disconnect(self, operator_key_id: str, link: OperatorLink) -> None:
        self._pool.disconnect(operator_key_id, link)

    def ready(self, operator_key_id: str, capacity: int) -> None:
        self._pool.ready(operator_key_id, capacity)

    def pause(self, operator_key_id: str) -> None:
        self._pool.pause(operator_key_id)

    def typing(self, operator_key_id: str, task_id: str, text: str) -> None:
        self._held_by(operator_key_id, task_id).note_typing(text)

    async def reply(self, operator_key_id: str, task_id: str, answer: Answer) -> str:
        state = self._held_by(operator_key_id, task_id)
        answer = with_provenance(state, check_reply(state.task, answer))
        streamed = state.drafts.streamed
        if streamed and not (answer.content or "").startswith(streamed):
            raise Rejected(
                "live_text_sent",
                f"The participant has already seen {streamed!r}; the reply must start with it.",
            )
        state.answering = True
        try:
            record_id = await self._recorder.answered(
                state.task, operator_key_id, answer, state.timings()
            )
        except Exception as exc:
            state.answering = False
            log.exception("record.commit_failed", task_id=state.task.id)
            raise Rejected("store_error", "The answer could not be saved; try again.") from exc
        self._complete(state, Delivery(answer, record_id))
        return record_id

    def release(self, operator_key_id: str, task_id: str) -> None:
        state = self._held_by(operator_key_id, task_id)
        self._pool.unassign(state)
        state.declined_by.add(operator_key_id)
        state.task.draft = state.drafts.text or state.task.draft
        self._pool.enqueue(state, front=True)
        self._pool.pump()

    def status(self) -> QueueStatus:
        return self._pool.status()

    def task(self, task_id: str) -> Task | None:
        state = self._tasks.get(task_id)
        return state.task if state is not None and not state.finished else None

    def live(self, max_tasks: int, participant: str | None = None) -> LiveDispatch:
        tasks, in_flight = live_tasks(
            self._tasks.values(), self._pool.is_connected, max_tasks, participant
        )
        return LiveDispatch(operators=self._pool.live_operators(), tasks=tasks, in_flight=in_flight)

    async def close(self) -> None:
        """Fail every waiting request (as 503s) and record its task as expired.

        Idempotent: called when the server begins shutting down, so open
        requests end at once instead of holding the shutdown, and again at cleanup.
        """
        self._answer_deadlines.close()
        self._abandoned.close()
        for state in list(self._tasks.values()):
            if not state.finished and not state.answering:
                state.finished = True
                self._spawn(
                    self._recorder.unanswered(
                        state.task, state.operator, RecordStatus.EXPIRED, state.timings()
                    )
                )
            if not state.outcome.done():
                fail_outcome(
                    state.outcome,
                    Unavailable("woz is shutting down.", code="shutting_down", retry_after=5),
                )
        self._pool.close()
        if self._background:
            await asyncio.gather(*self._background, return_exceptions=True)

    # -- internals -------------------------------------------------------------

    def _track(self, state: TaskState) -> None:
        """Count the task as in flight for its participant while someone waits for it."""
        active = not state.finished and state.waiters > 0
        self._in_flight.update(state.task.participant, state.task.id, active=active)

    def _held_by(self, operator_key_id: str, task_id: str) -> TaskState:
        state = self._tasks.get(task_id)
        if state is None:
            raise Rejected("unknown_task", "That task does not exist (any more).")
        if state.finished or state.answering:
            raise Rejected("already_answered", "That task has already been answered.")
        if state.operator != operator_key_id:
            raise Rejected("lease_lost", "That task is no longer assigned to you.")
        return state

    def _complete(self, state: TaskState, delivery: Delivery) -> None:
        if state.drafting is not None:
            state.drafting.cancel()
        self._pool.unassign(state)
        state.answering = False
        state.finished = True
        self._track(state)
        state.record_id = delivery.record_id
        self._answer_deadlines.cancel(state.task.id)
        answer = delivery.answer.as_message()
        self._conversations.remember(state.history, answer, state.task.conversation_id)
        state.outcome.set_result(delivery)
        if state.waiters == 0:  # its client left while the answer was being committed
            self._settle(state)
            self._recorder.delivered(delivery.record_id, False, now())
        self._pool.pump()

    def _settle(self, state: TaskState) -> None:
        """Every waiting request has had the answer: keep only what a retry needs."""
        self._forget(state.task.id)
        self._retries.settle(state)

    def _on_deadline(self, task_id: str) -> None:
        state = self._tasks.get(task_id)
        if state is None or state.finished or state.answering:
            return
        if state.waiters == 0:
            self._forget(task_id)
            return
        state.answering = True
        self._pool.take_back(state, "expired")
        self._spawn(self._expire(state))

    async def _expire(self, state: TaskState) -> None:
        log.info("task.expired", task_id=state.task.id, on_timeout=self._routing.on_timeout)
        failure: str | None = None
        answer: Answer | None = None
        if self._routing.on_timeout == "fallback":
            answer = Answer(content=self._routing.fallback_text, produced_by=ProducedBy.FALLBACK)
        elif self._routing.on_timeout == "model" and self._routing.fallback_upstream:
            try:
                answer = await self._models_work.answer(self._routing.fallback_upstream, state.task)
            except UpstreamError as exc:
                log.warning("task.fallback_failed", task_id=state.task.id, reason=exc.reason)
                failure = f"fallback {exc}"
            else:
                answer = answer.model_copy(update={"produced_by": ProducedBy.FALLBACK})
        if answer is not None:
            record_id = await self._recorder.answered(state.task, None, answer, state.timings())
            self._complete(state, Delivery(answer, record_id))
            return
        await self._recorder.unanswered(
            state.task,
            state.last_operator,
            RecordStatus.EXPIRED,
            state.timings(),
            failure=failure,
        )
        self._fail(state, TaskExpired())

    def _fail(self, state: TaskState, error: WozError) -> None:
        """End a task without an answer; a retry of its request starts afresh."""
        if state.drafting is not None:
            state.drafting.cancel()
        state.answering = False
        state.finished = True
        self._track(state)
        fail_outcome(state.outcome, error)
        self._forget(state.task.id)

    async def _answer_by_model(self, state: TaskState) -> None:
        """The control arm: the upstream answers, recorded as `produced_by = model`."""
        task = state.task
        try:
            answer = await self._models_work.answer(task.upstream or "", task)
        except UpstreamError as exc:
            log.warning("task.model_failed", task_id=task.id, reason=exc.reason)
            await self._recorder.unanswered(
                task, None, RecordStatus.FAILED, state.timings(), failure=str(exc)
            )
            self._fail(state, upstream_failed(exc))
            return
        record_id = await self._recorder.answered(task, None, answer, state.timings())
        self._complete(state, Delivery(answer, record_id))

    def _forget(self, task_id: str) -> None:
        state = self._tasks.pop(task_id, None)
        if state is None:
            return
        self._in_flight.update(state.task.participant, task_id, active=False)
        self._pool.dequeue(task_id)
        self._retries.ended(state.task)
        self._answer_deadlines.cancel(task_id)
        self._abandoned.cancel(task_id)

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        task.add_done_callback(_log_failure)


def _log_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("dispatcher.background_failed", error=repr(task.exception()))
