"""Operators, the queue of tasks waiting for one, and which operator holds which task.

The pool assigns; the dispatcher decides a task's life (joining, answering,
expiring, forgetting). Tasks stay the dispatcher's: the pool holds their ids and
looks them up through the `task_of` function it is given.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Callable

import structlog

from woz.bounded import BoundedMap
from woz.dispatch.base import OperatorIdentity, OperatorLink, QueueStatus
from woz.dispatch.policies import choose_operator
from woz.dispatch.state import OperatorState, TaskState, now
from woz.dispatch.throttle import Throttled
from woz.models.live import LiveOperator

log = structlog.get_logger(__name__)

BROADCAST_INTERVAL_S = 0.25  # the fastest queue figures are sent to operators
CONVERSATION_OWNERS = 100_000  # conversations whose operator is remembered


class OperatorPool:
    """Who is connected and ready, what waits, and who was given what."""

    def __init__(self, reconnect_grace_s: float, task_of: Callable[[str], TaskState]) -> None:
        self._reconnect_grace_s = reconnect_grace_s
        self._task_of = task_of
        self._operators: dict[str, OperatorState] = {}
        self._queue: OrderedDict[str, None] = OrderedDict()  # task ids, oldest first
        # Who was last given each conversation: its next turn goes to them.
        self._owners: BoundedMap[str, str] = BoundedMap(CONVERSATION_OWNERS)
        # Queue figures are for display: one frame per state change per operator
        # would cost more than the tasks themselves.
        self._queue_figures = Throttled(BROADCAST_INTERVAL_S, self._broadcast)

    # -- presence ------------------------------------------------------------

    def connect(self, operator: OperatorIdentity, link: OperatorLink) -> None:
        """A (re)connected operator gets back the tasks they held, then the queue figures."""
        op = self._operators.get(operator.key_id)
        if op is None:
            op = OperatorState(
                key_id=operator.key_id, capacity=1, display_name=operator.display_name
            )
            self._operators[operator.key_id] = op
        if op.grace is not None:
            op.grace.cancel()
            op.grace = None
        op.link = link
        for state in sorted(map(self._task_of, op.held), key=lambda s: s.queued_at):
            link.send_assigned(state.for_operator())
        link.send_queue(self.status())
        log.info("operator.connected", operator=operator.key_id, held=len(op.held))
        self.pump()

    def disconnect(self, operator_key_id: str, link: OperatorLink) -> None:
        """An operator holding tasks keeps them for the reconnect grace, then loses them."""
        op = self._operators.get(operator_key_id)
        if op is None or op.link is not link:
            return  # a newer connection replaced this one
        op.link = None
        if not op.held:
            del self._operators[operator_key_id]
        else:
            op.grace = asyncio.get_running_loop().call_later(
                self._reconnect_grace_s, self._grace_over, operator_key_id
            )
        log.info("operator.disconnected", operator=operator_key_id, held=len(op.held))
        self._queue_figures.request()

    def ready(self, operator_key_id: str, capacity: int) -> None:
        op = self._operators.get(operator_key_id)
        if op is not None:
            op.ready = True
            op.capacity = max(1, capacity)
            self.pump()

    def pause(self, operator_key_id: str) -> None:
        op = self._operators.get(operator_key_id)
        if op is not None:
            op.ready = False
            self._queue_figures.request()

    def anyone_ready(self) -> bool:
        """Whether a new task can expect an answer: an operator in their reconnect
        grace counts, being expected back within seconds."""
        return any(op.ready for op in self._operators.values())

    # -- the queue -----------------------------------------------------------

    @property
    def waiting(self) -> int:
        return len(self._queue)

    def enqueue(self, state: TaskState, front: bool = False) -> None:
        """Put a task in line; `front` for one that already waited (released, reassigned)."""
        state.queued_at = state.queued_at or time.monotonic()
        self._queue[state.task.id] = None
        if front:
            self._queue.move_to_end(state.task.id, last=False)
        self._queue_figures.request()

    def dequeue(self, task_id: str) -> None:
        self._queue.pop(task_id, None)

    def pump(self) -> None:
        """Assign waiting tasks, oldest first, while some operator has a free slot.

        Strictly in order: when the oldest task cannot be assigned (every free
        operator declined it), the ones behind it wait too."""
        while self._queue:
            candidates = [op for op in self._operators.values() if op.reachable and op.free > 0]
            if not candidates:
                break
            task_id = next(iter(self._queue))
            state = self._task_of(task_id)
            owner = self._owners.get(state.task.conversation_id)
            op = choose_operator(candidates, owner, state.declined_by)
            if op is None:
                break
            assert isinstance(op, OperatorState) and op.link is not None
            del self._queue[task_id]
            state.operator = op.key_id
            state.assigned_at = state.assigned_at or now()
            op.held.add(task_id)
            op.last_assigned = time.monotonic()
            self._owners.put(state.task.conversation_id, op.key_id)
            op.link.send_assigned(state.for_operator())
            log.info("task.assigned", task_id=task_id, operator=op.key_id)
        self._queue_figures.request()

    # -- leases --------------------------------------------------------------

    def unassign(self, state: TaskState) -> OperatorState | None:
        """End the lease of whoever holds `state` (remembered as its last operator)."""
        op = self._operators.get(state.operator or "")
        if op is not None:
            op.held.discard(state.task.id)
        state.last_operator = state.operator or state.last_operator
        state.operator = None
        return op

    def take_back(self, state: TaskState, reason: str) -> None:
        """Withdraw a task from its operator (telling them why) and from the queue."""
        self._queue.pop(state.task.id, None)
        op = self.unassign(state)
        if op is not None and op.link is not None:
            op.link.send_revoked(state.task.id, reason)
        self._queue_figures.request()
        self.pump()

    def send_draft(self, state: TaskState, text: str, done: bool, error: str | None) -> None:
        """A model draft of `state` to the operator holding it, if they are connected."""
        op = self._operators.get(state.operator or "")
        if op is not None and op.link is not None:
            op.link.send_draft(state.task.id, text, done=done, error=error)

    # -- figures and shutdown --------------------------------------------------

    def status(self) -> QueueStatus:
        oldest = next(iter(self._queue), None)
        return QueueStatus(
            waiting=len(self._queue),
            # Ready and connected: someone in their reconnect grace is not online.
            operators_online=sum(1 for op in self._operators.values() if op.reachable),
            oldest_wait_s=round(time.monotonic() - self._task_of(oldest).queued_at, 3)
            if oldest
            else 0.0,
        )

    def live_operators(self) -> list[LiveOperator]:
        """Every operator connected or in their reconnect grace, for the watch view."""
        return [
            LiveOperator(
                key_id=op.key_id,
                name=op.display_name,
                connected=op.link is not None,
                ready=op.ready,
                capacity=op.capacity,
                holding=len(op.held),
            )
            for op in self._operators.values()
        ]

    def is_connected(self, operator_key_id: str) -> bool:
        op = self._operators.get(operator_key_id)
        return op is not None and op.link is not None

    def close(self) -> None:
        for op in self._operators.values():
            if op.grace is not None:
                op.grace.cancel()

    def _grace_over(self, operator_key_id: str) -> None:
        op = self._operators.pop(operator_key_id, None)
        if op is None:
            return
        log.info("operator.grace_over", operator=operator_key_id, reassigning=len(op.held))
        held = sorted(map(self._task_of, op.held), key=lambda s: s.queued_at, reverse=True)
        op.held.clear()
        for state in held:
            state.last_operator, state.operator = state.operator, None
            state.task.attempt += 1
            state.task.draft = state.drafts.text or state.task.draft
            self.enqueue(state, front=True)
        self.pump()

    def _broadcast(self) -> None:
        status = self.status()
        for op in self._operators.values():
            if op.link is not None:
                op.link.send_queue(status)
