"""`Front`: this process's half of the dispatcher, the `Dispatcher` the app uses.

The front keeps what cannot leave the process: the futures of the requests
waiting here, the sockets of the operators connected here, live drafts, and
the queue figures sent to those operators. Everything shared is the
`Backend`'s; what it decides for this front arrives as events on the front's
channel (`on_event`). The front also does the slow work the backend decides
on: a model's answer (control arm) or draft (assist mode), and the fallback of
a task whose deadline passed, found by its timer loop.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any

import structlog
from pydantic import BaseModel

from woz.assist.model_work import ModelWork, upstream_failed, with_provenance
from woz.assist.upstream import ModelBackend, UpstreamError
from woz.dispatch.backend import (
    Assigned,
    Delivery,
    Draft,
    Expiring,
    Joined,
    ModelDraft,
    Outcome,
    QueueStatus,
    Replaced,
    Replayed,
    Revoked,
    TakenUp,
    VoiceSession,
)
from woz.dispatch.base import (
    Admission,
    DraftFeed,
    OperatorIdentity,
    OperatorLink,
    Recorder,
    Rejected,
    TaskHandle,
)
from woz.dispatch.conversations import continues_and_history
from woz.dispatch.docs import task_timings
from woz.dispatch.kv import KeyValue, StateUnavailable
from woz.dispatch.shared import SharedBackend
from woz.dispatch.throttle import Throttled
from woz.dispatch.validation import check_reply
from woz.errors import TaskExpired, Unavailable, WozError
from woz.models.live import LiveDispatch
from woz.models.record import RecordStatus
from woz.models.study import RoutingSection
from woz.models.task import Answer, ProducedBy, Task, new_id

log = structlog.get_logger(__name__)

BROADCAST_INTERVAL_S = 0.25  # the fastest queue figures are sent to operators
SHARED_POLL_S = 0.05  # how often timers are looked at when other processes set them too
SWEEP_EVERY_S = 1.0  # heartbeats, and the check for other processes gone


@dataclass
class _Waiting:
    """A task that requests on this process wait for."""

    task: Task
    outcome: asyncio.Future[Delivery]
    drafts: DraftFeed = field(default_factory=DraftFeed)
    handles: int = 1
    taken_up: bool = False


class Front:
    """The `Dispatcher` of one woz process, over `kv` (memory, or shared in Redis)."""

    def __init__(
        self,
        kv: KeyValue,
        routing: RoutingSection,
        recorder: Recorder,
        admit: Admission | None = None,
        models: ModelBackend | None = None,
    ) -> None:
        self.id = new_id("front_", 8)
        self._kv = kv
        self._routing = routing
        self._recorder = recorder
        self._admit = admit
        self._backend = SharedBackend(kv, routing, recorder)
        self._models = ModelWork(models, self._backend.model_draft)
        self._waiting: dict[str, _Waiting] = {}
        self._links: dict[str, OperatorLink] = {}
        self._background: set[asyncio.Task[None]] = set()
        self._loops: list[asyncio.Task[None]] = []
        self._wake = asyncio.Event()
        self._figures = Throttled(BROADCAST_INTERVAL_S, self._broadcast)
        self._last_figures: tuple[int, int] | None = None
        self._closed = False
        # What this front would tell a shared state that lost everything (a Redis
        # restarted empty): its operators (name, capacity when ready) and the answers
        # committed while the state could not be reached.
        self._operators: dict[str, tuple[str, int | None]] = {}
        self._unsent: dict[str, Delivery] = {}
        self._epoch: str | None = None

    async def open(self) -> None:
        """Subscribe to this front's events and start its timer (and heartbeat) loop."""
        await self._kv.subscribe(self.id, self.on_event)
        self._kv.listen(self._changed)
        await self._backend.sweep(self.id)
        self._loops.append(asyncio.create_task(self._timers()))
        if self._kv.shared:
            self._epoch = await self._backend.epoch()
            self._loops.append(asyncio.create_task(self._sweeps()))

    # -- the facade's side ---------------------------------------------------

    async def submit(self, task: Task) -> TaskHandle:
        try:
            return await self._submit(task)
        except StateUnavailable as exc:
            log.warning("dispatch.state_unavailable", error=str(exc))
            raise Unavailable(
                "woz cannot reach its dispatcher right now.",
                code="dispatcher_unavailable",
                retry_after=self._routing.retry_after_s,
            ) from exc

    async def _submit(self, task: Task) -> TaskHandle:
        joined = await self._backend.join(task, self.id)
        if joined is not None:
            return self._handle_joined(joined, task)
        if self._admit is not None:
            task = await self._admit(task)
        continues, history = continues_and_history(task.scope, task.messages)
        result = await self._backend.start(task, self.id, continues, history)
        if not isinstance(result, Joined | Replayed):
            task = result.task
            waiting = self._waiting[task.id] = _Waiting(
                task, asyncio.get_running_loop().create_future()
            )
            waiting.taken_up = result.taken_up
            if task.mode == "model":
                self._spawn(self._answer_by_model(task))
            elif task.mode == "assist" and task.upstream:
                self._spawn(self._models.draft(task))
            self._wake_timers()
            return self._handle(waiting)
        return self._handle_joined(result, task)

    def _handle_joined(self, result: Joined | Replayed, task: Task) -> TaskHandle:
        if isinstance(result, Replayed):
            outcome: asyncio.Future[Delivery] = asyncio.get_running_loop().create_future()
            outcome.set_result(result.delivery)
            # The retry's own task is the same request; it takes the answered task's id.
            return TaskHandle(task.model_copy(update={"id": result.task_id}), outcome, DraftFeed())
        waiting = self._waiting.get(result.task.id)
        if waiting is None:
            waiting = self._waiting[result.task.id] = _Waiting(
                result.task, asyncio.get_running_loop().create_future(), handles=0
            )
            waiting.drafts.update(result.draft)
        waiting.handles += 1
        waiting.taken_up = waiting.taken_up or result.taken_up
        if result.delivery is not None and not waiting.outcome.done():
            waiting.outcome.set_result(result.delivery)
        return self._handle(waiting)

    def _handle(self, waiting: _Waiting) -> TaskHandle:
        task_id = waiting.task.id
        return TaskHandle(
            waiting.task,
            waiting.outcome,
            waiting.drafts,
            lambda: waiting.taken_up,
            lambda text: self._spawn(self._backend.streamed(task_id, text)),
        )

    def finish(self, handle: TaskHandle, delivered: bool) -> None:
        task_id = handle.task.id
        waiting = self._waiting.get(task_id)
        if waiting is not None and waiting.outcome is handle.outcome:
            waiting.handles -= 1
            if waiting.handles == 0:
                del self._waiting[task_id]
        self._spawn(self._backend.finish(task_id, self.id, delivered))

    # -- the operator hub's side -----------------------------------------------

    async def connect(self, operator: OperatorIdentity, link: OperatorLink) -> None:
        self._links[operator.key_id] = link
        self._operators[operator.key_id] = (operator.display_name, None)
        held = await self._backend.connect(operator.key_id, operator.display_name, self.id)
        for task in held:
            link.send_assigned(task)
        link.send_queue(await self._backend.status())

    async def disconnect(self, operator_key_id: str, link: OperatorLink) -> None:
        if self._links.get(operator_key_id) is link:
            del self._links[operator_key_id]
            self._operators.pop(operator_key_id, None)
            await self._backend.disconnect(operator_key_id, self.id)

    async def ready(self, operator_key_id: str, capacity: int) -> None:
        self._note_ready(operator_key_id, capacity)
        await self._backend.ready(operator_key_id, capacity)

    async def pause(self, operator_key_id: str) -> None:
        self._note_ready(operator_key_id, None)
        await self._backend.pause(operator_key_id)

    def _note_ready(self, operator_key_id: str, capacity: int | None) -> None:
        known = self._operators.get(operator_key_id)
        if known is not None:
            self._operators[operator_key_id] = (known[0], capacity)

    async def typing(self, operator_key_id: str, task_id: str, text: str) -> None:
        await self._backend.typing(operator_key_id, task_id, text)

    async def reply(self, operator_key_id: str, task_id: str, answer: Answer) -> str:
        context = await self._backend.begin_reply(operator_key_id, task_id)
        try:
            answer = with_provenance(context, check_reply(context.task, answer))
            streamed = context.streamed
            if streamed and not (answer.content or "").startswith(streamed):
                raise Rejected(
                    "live_text_sent",
                    f"The participant has already seen {streamed!r}; the reply must start with it.",
                )
            record_id = await self._recorder.answered(
                context.task, operator_key_id, answer, context.timings
            )
        except Rejected:
            await self._backend.abort_reply(task_id)
            raise
        except Exception as exc:
            await self._backend.abort_reply(task_id)
            log.exception("record.commit_failed", task_id=task_id)
            raise Rejected("store_error", "The answer could not be saved; try again.") from exc
        delivery = Delivery(answer=answer, record_id=record_id)
        try:
            await self._backend.complete(task_id, delivery)
        except StateUnavailable:
            # Committed: acknowledged, and handed over once the state answers again.
            log.warning("dispatch.completion_deferred", task_id=task_id)
            self._unsent[task_id] = delivery
        return record_id

    async def release(self, operator_key_id: str, task_id: str) -> None:
        await self._backend.release(operator_key_id, task_id)

    async def status(self) -> QueueStatus:
        return await self._backend.status()

    async def task(self, task_id: str) -> Task | None:
        return await self._backend.task(task_id)

    async def live(self, max_tasks: int, participant: str | None = None) -> LiveDispatch:
        return await self._backend.live(max_tasks, participant)

    async def voice_session(self, notice: VoiceSession) -> str | None:
        return await self._backend.voice_session(notice)

    async def voice_session_ended(self, session_id: str) -> None:
        await self._backend.voice_session_ended(session_id)

    async def conversation_owner(self, conversation_id: str) -> str | None:
        return await self._backend.conversation_owner(conversation_id)

    async def close(self) -> None:
        """Fail every request waiting here (as 503s) and record its task as expired.

        Idempotent: called when the server begins shutting down, so open
        requests end at once instead of holding the shutdown, and again at cleanup.
        """
        if not self._closed:
            self._closed = True
            for loop in self._loops:
                loop.cancel()
            await asyncio.gather(*self._loops, return_exceptions=True)
            try:
                await self._backend.close_front(self.id)
                await self._kv.unsubscribe(self.id)
            except Exception:  # the shared state may be out of reach: end what waits here
                log.exception("dispatch.close_failed", front=self.id)
        for waiting in list(self._waiting.values()):
            if not waiting.outcome.done():
                shutting_down = Unavailable(
                    "woz is shutting down.", code="shutting_down", retry_after=5
                )
                _fail(waiting.outcome, shutting_down)
        if self._background:
            await asyncio.gather(*self._background, return_exceptions=True)
        await self._backend.close()

    # -- events from the backend ---------------------------------------------------

    def on_event(self, event: BaseModel) -> None:
        """Carry out what the backend decided for this front (see `woz.dispatch.backend`)."""
        if isinstance(event, Outcome):
            waiting = self._waiting.get(event.task_id)
            if waiting is None or waiting.outcome.done():
                return
            if event.delivery is not None:
                waiting.outcome.set_result(event.delivery)
            elif event.error is not None:
                _fail(waiting.outcome, event.error.error())
        elif isinstance(event, Assigned):
            link = self._links.get(event.operator)
            if link is not None:
                link.send_assigned(event.task)
        elif isinstance(event, Draft):
            waiting = self._waiting.get(event.task_id)
            if waiting is not None:
                waiting.drafts.update(event.text)
        elif isinstance(event, TakenUp):
            waiting = self._waiting.get(event.task_id)
            if waiting is not None:
                waiting.taken_up = True
        elif isinstance(event, Revoked):
            link = self._links.get(event.operator)
            if link is not None:
                link.send_revoked(event.task_id, event.reason)
        elif isinstance(event, ModelDraft):
            link = self._links.get(event.operator)
            if link is not None:
                link.send_draft(event.task_id, event.text, done=event.done, error=event.error)
        elif isinstance(event, VoiceSession):
            link = self._links.get(event.operator)
            if link is not None:
                link.send_voice_session(event)
        elif isinstance(event, Replaced):
            link = self._links.get(event.operator)
            if link is not None:
                link.send_replaced()

    # -- slow work -------------------------------------------------------------

    async def _answer_by_model(self, task: Task) -> None:
        """The control arm: the upstream answers, recorded as `produced_by = model`."""
        try:
            answer = await self._models.answer(task.upstream or "", task)
        except UpstreamError as exc:
            log.warning("task.model_failed", task_id=task.id, reason=exc.reason)
            await self._recorder.unanswered(
                task, None, RecordStatus.FAILED, task_timings(task), failure=str(exc)
            )
            await self._backend.fail(task.id, upstream_failed(exc))
            return
        record_id = await self._recorder.answered(task, None, answer, task_timings(task))
        await self._backend.complete(task.id, Delivery(answer=answer, record_id=record_id))

    async def _expire(self, expiring: Expiring) -> None:
        task = expiring.task
        routing = self._routing
        log.info("task.expired", task_id=task.id, on_timeout=routing.on_timeout)
        failure: str | None = None
        answer: Answer | None = None
        if routing.on_timeout == "fallback":
            answer = Answer(content=routing.fallback_text, produced_by=ProducedBy.FALLBACK)
        elif routing.on_timeout == "model" and routing.fallback_upstream:
            try:
                answer = await self._models.answer(routing.fallback_upstream, task)
            except UpstreamError as exc:
                log.warning("task.fallback_failed", task_id=task.id, reason=exc.reason)
                failure = f"fallback {exc}"
            else:
                answer = answer.model_copy(update={"produced_by": ProducedBy.FALLBACK})
        if answer is not None:
            record_id = await self._recorder.answered(task, None, answer, expiring.timings)
            await self._backend.complete(task.id, Delivery(answer=answer, record_id=record_id))
            return
        await self._recorder.unanswered(
            task, expiring.last_operator, RecordStatus.EXPIRED, expiring.timings, failure=failure
        )
        await self._backend.fail(task.id, TaskExpired())

    # -- loops -------------------------------------------------------------------

    def _wake_timers(self) -> None:
        self._wake.set()

    async def _timers(self) -> None:
        """Run the backend's timers as they fall due; any process may find one due."""
        while True:
            try:
                expiring, next_due = await self._backend.expire_due(self.id)
            except Exception:
                log.exception("dispatch.timers_failed", front=self.id)
                expiring, next_due = [], None
            for found in expiring:
                self._spawn(self._expire(found))
            wait = 3600.0 if next_due is None else max(0.0, next_due - time.time())
            if self._kv.shared:
                wait = min(wait, SHARED_POLL_S)
            self._wake.clear()
            try:
                async with asyncio.timeout(wait):
                    await self._wake.wait()
            except TimeoutError:
                pass

    async def _sweeps(self) -> None:
        """Shared backends: heartbeats, other processes' leftovers, queue figures, and
        what a shared state that restarted empty lost."""
        while True:
            try:
                forgotten = await self._backend.sweep(self.id)
                epoch = await self._backend.epoch()
                if epoch != self._epoch or forgotten:
                    await self._restore()
                    self._epoch = epoch
                await self._hand_over()
            except StateUnavailable as exc:
                log.warning("dispatch.state_unavailable", front=self.id, error=str(exc))
            except Exception:
                log.exception("dispatch.sweep_failed", front=self.id)
            if self._links:
                self._figures.request()
            await asyncio.sleep(SWEEP_EVERY_S)

    async def _restore(self) -> None:
        """The shared state lost everything: say again who is connected here and what
        waits here. No committed answer is lost: each is in the store, and the requests
        still waiting are queued again."""
        log.warning("dispatch.state_lost", front=self.id, waiting=len(self._waiting))
        for key_id, (name, capacity) in list(self._operators.items()):
            link = self._links.get(key_id)
            if link is None:
                continue
            for task in await self._backend.connect(key_id, name, self.id):
                link.send_assigned(task)
            if capacity is not None:
                await self._backend.ready(key_id, capacity)
        for task_id, waiting in list(self._waiting.items()):
            if waiting.outcome.done() or task_id in self._unsent:
                continue
            _, history = continues_and_history(waiting.task.scope, waiting.task.messages)
            await self._backend.restore(waiting.task, self.id, waiting.handles, history)

    async def _hand_over(self) -> None:
        """Answers committed while the shared state was out of reach reach their requests."""
        for task_id, delivery in list(self._unsent.items()):
            if await self._backend.task(task_id) is None:
                continue  # its request's process has not queued it again yet
            await self._backend.complete(task_id, delivery)
            del self._unsent[task_id]
            waiting = self._waiting.get(task_id)
            if waiting is not None and not waiting.outcome.done():
                waiting.outcome.set_result(delivery)

    def _changed(self) -> None:
        """The queue or presence changed here; timers may have been set."""
        self._wake.set()
        if self._links:
            self._figures.request()

    def _broadcast(self) -> None:
        self._spawn(self._send_figures())

    async def _send_figures(self) -> None:
        """Queue figures to the operators connected here, when they changed."""
        status = await self._backend.status()
        figures = (status.waiting, status.operators_online)
        if figures == self._last_figures:
            return
        self._last_figures = figures
        for link in list(self._links.values()):
            link.send_queue(status)

    def _spawn(self, work: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.create_task(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        task.add_done_callback(_log_failure)


def _fail(outcome: asyncio.Future[Delivery], error: BaseException) -> None:
    """Fail `outcome` with `error`, marked as seen whether or not a request still waits."""
    outcome.set_exception(error)
    outcome.exception()


def _log_failure(task: asyncio.Task[Any]) -> None:
    if task.cancelled():
        return
    error = task.exception()
    if error is not None and not isinstance(error, Rejected | WozError):
        log.error("dispatcher.background_failed", error=repr(error))
