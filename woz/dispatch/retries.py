"""Which task a retry belongs to, and the answers kept for retries.

Only a real retry may join a task in flight or be given an answer already
given: a request the caller marked as a retry (`Task.may_join`, decided by
`woz.api.intake`). Every other request is a task of its own, even with the same
request key: two people using one app who both type "Hi" each get a human's
answer, and each exchange gets its record.

Several tasks may share a request key (identical first attempts of people the
app does not name). A retry goes to the one whose own request is known to have
gone without its answer, since that is most likely the request being retried:
a task in flight that nobody waits for any more (its client timed out), else an
answer whose delivery failed; failing that, to the oldest task in flight, else
to the latest answer.

An answer given again is logged (with its record id, never its text) and
counted on its record (`Record.replays`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

import structlog

from woz.dispatch.base import Delivery, DraftFeed, Recorder, TaskHandle
from woz.dispatch.keyed import KeyedTasks
from woz.dispatch.settled import Settled, SettledAnswers
from woz.dispatch.state import TaskState, now
from woz.errors import invalid_request
from woz.models.task import Task

log = structlog.get_logger(__name__)


class Retries:
    """The tasks in flight and the answers given that a retry can find, by request key.

    `tasks` is the dispatcher's own map of the tasks in flight; each task started
    is announced with `started` and each task let go with `ended`.
    """

    def __init__(self, ttl_s: float, tasks: Mapping[str, TaskState], recorder: Recorder) -> None:
        self._tasks = tasks
        self._recorder = recorder
        self._in_flight = KeyedTasks()
        self._answers = SettledAnswers(ttl_s)

    def started(self, task: Task) -> None:
        """`task` is in flight: a retry of its request may join it."""
        self._in_flight.add(task.request_key, task.id)

    def ended(self, task: Task) -> None:
        """`task` is no longer in flight (let go, or failed: a retry starts afresh)."""
        self._in_flight.discard(task.request_key, task.id)

    def target(self, task: Task) -> TaskState | Settled | None:
        """The task in flight that `task` joins, or the answer it is given again;
        None when `task` is a new task.

        Raises a `WozError` (400, `idempotency_key_reused`) when `task` reuses an
        `Idempotency-Key` for a different request.
        """
        if not task.may_join:
            return None
        key = task.request_key
        in_flight = [self._tasks[task_id] for task_id in self._in_flight.ids(key)]
        target = _pick(in_flight, self._answers.for_key(key))
        if isinstance(target, Settled):
            _check_same_request(target.request_digest, task)
        elif target is not None:
            _check_same_request(target.task.request_digest, task)
        return target

    def replay(self, task: Task, answer: Settled) -> TaskHandle:
        """A handle that has `answer` at once, for `task`, a retry of its request."""
        outcome: asyncio.Future[Delivery] = asyncio.get_running_loop().create_future()
        outcome.set_result(answer.delivery)
        self.replayed(answer.task_id, answer.delivery.record_id)
        # The retry's own task is the same request; it takes the answered task's id.
        return TaskHandle(task.model_copy(update={"id": answer.task_id}), outcome, DraftFeed())

    def replayed(self, task_id: str, record_id: str) -> None:
        """An answer already given goes to a retry: logged, and counted on its record."""
        log.info("task.replayed", task_id=task_id, record_id=record_id)
        self._recorder.replayed(record_id)

    def settle(self, state: TaskState) -> None:
        """Every request waiting for the task has had its outcome: keep its answer, if
        it has one, for retries."""
        outcome = state.outcome
        if outcome.done() and not outcome.cancelled() and outcome.exception() is None:
            self._answers.add(state.task, outcome.result(), state.delivered)

    def finish_replay(self, handle: TaskHandle, delivered: bool) -> None:
        """A replayed answer reached its retry (or not): the record is delivered if it
        was not yet."""
        answer = self._answers.get(handle.task.id)
        if answer is not None and delivered and not answer.delivered:
            answer.delivered = True
            self._recorder.delivered(answer.delivery.record_id, True, now())


def _pick(in_flight: list[TaskState], answers: list[Settled]) -> TaskState | Settled | None:
    """The rule of the module's docstring; `in_flight` oldest first, `answers` latest first."""
    for state in in_flight:
        if state.waiters == 0:
            return state
    for answer in answers:
        if not answer.delivered:
            return answer
    if in_flight:
        return in_flight[0]
    return answers[0] if answers else None


def _check_same_request(asked: str, retry: Task) -> None:
    """Refuse a request that reuses an `Idempotency-Key` for something else.

    `asked` is the digest of the request that first came with the key. A retry
    keyed by its body always matches; one keyed by an idempotency key may not.
    """
    if retry.request_digest != asked:
        raise invalid_request(
            "This Idempotency-Key was already used for a different request (another body,"
            " path or conversation). Use a new key for a new request.",
            code="idempotency_key_reused",
        )
