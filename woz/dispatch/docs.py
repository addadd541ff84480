"""The documents of the dispatcher's shared state, and the keys they live under.

Every key has a TTL, or an owner that removes it (the operator set and the
queue lose their members as tasks and operators leave; a front's set dies with
its heartbeat's sweep).
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from pydantic import BaseModel, Field

from woz.dispatch.backend import Delivery
from woz.dispatch.conversations import message_shape
from woz.models.live import LiveOperator, LiveTask, LiveTaskStatus, excerpt, turn_text
from woz.models.record import Timings
from woz.models.task import Message, Task

QUEUE = "q"  # task ids waiting for an operator, by when they were queued
TIMERS = "tm"  # "d:<task>" answer deadlines, "a:<task>" abandoned, "g:<operator>" grace
IN_FLIGHT = "lv"  # task ids not yet forgotten, by when they arrived (the watch view)
OPERATORS = "ops"  # operator key ids connected or in their grace
FRONTS = "fronts"  # front ids that hold sockets or requests (shared backends)
EPOCH = "epoch"  # the shared state's life: gone after a restart that kept nothing
EPOCH_TTL_S = 30 * 86_400.0  # renewed by every process's sweep
OWNER_TTL_S = 86_400.0  # conversations' operators and continuations are remembered this long


def task_key(task_id: str) -> str:
    return f"t:{task_id}"


def operator_key(key_id: str) -> str:
    return f"o:{key_id}"


def settled_key(task_id: str) -> str:
    return f"s:{task_id}"


def request_key(key: str) -> str:
    return f"rk:{key}"


def settled_by_request(key: str) -> str:
    return f"sk:{key}"


def participant_key(participant: str) -> str:
    return f"pf:{participant}"


def owner_key(conversation_id: str) -> str:
    return f"own:{conversation_id}"


def continuation_key(digest: str) -> str:
    return f"cv:{digest}"


def front_tasks(front: str) -> str:
    return f"fw:{front}"


def front_alive(front: str) -> str:
    return f"fa:{front}"


def continuation(history_digest: str, message: Message) -> str:
    """The digest naming a history followed by `message`: the same whether it is
    computed from a request's messages or from an answer just given."""
    return hashlib.sha256(history_digest.encode() + message_shape(message)).hexdigest()


def now() -> datetime:
    return datetime.now(UTC)


def task_timings(
    task: Task, assigned_at: datetime | None = None, first_keystroke_at: datetime | None = None
) -> Timings:
    """The timings of `task` as it ends now."""
    return Timings(
        received_at=task.received_at,
        assigned_at=assigned_at,
        first_keystroke_at=first_keystroke_at,
        answered_at=now(),
        attempts=task.attempt,
    )


class OperatorDoc(BaseModel):
    """An operator: load, readiness, and the front holding their socket (None in the
    reconnect grace)."""

    key_id: str
    display_name: str = ""
    capacity: int = 1
    held: list[str] = Field(default_factory=list)
    last_assigned: float = 0.0
    ready: bool = False
    front: str | None = None

    @property
    def reachable(self) -> bool:
        return self.ready and self.front is not None

    def live(self) -> LiveOperator:
        return LiveOperator(
            key_id=self.key_id,
            name=self.display_name,
            connected=self.front is not None,
            ready=self.ready,
            capacity=self.capacity,
            holding=len(self.held),
        )


class TaskDoc(BaseModel):
    """A task in flight, shared by every request that joined it, wherever they wait."""

    task: Task
    history: str  # digest of the task's messages: its answer continues it
    waiters: dict[str, int] = Field(default_factory=dict)  # front id -> requests there
    operator: str | None = None  # who holds the lease now
    last_operator: str | None = None  # who held it last, for the record
    queued_at: float = 0.0  # wall clock
    assigned_at: datetime | None = None
    first_keystroke_at: datetime | None = None
    answering: bool = False
    finished: bool = False
    delivered: bool = False
    delivery: Delivery | None = None
    declined_by: list[str] = Field(default_factory=list)
    draft: str = ""  # the operator's text as typed so far
    streamed: str = ""  # live text the participant has seen
    model_draft: str | None = None
    draft_source: str | None = None
    draft_error: str | None = None

    @property
    def waiting(self) -> int:
        return sum(self.waiters.values())

    @property
    def taken_up(self) -> bool:
        return self.assigned_at is not None or self.task.mode == "model"

    def for_operator(self) -> Task:
        """The task as an operator should get it: with the latest human or model draft."""
        draft = self.draft or self.model_draft
        if draft:
            return self.task.model_copy(update={"draft": draft})
        return self.task

    def timings(self) -> Timings:
        return task_timings(self.task, self.assigned_at, self.first_keystroke_at)

    def live(self, operator_connected: bool) -> LiveTask:
        """The task as a researcher watching sees it."""
        task = self.task
        status: LiveTaskStatus
        if task.mode == "model":
            status = "model"
        elif self.answering:
            status = "answering"
        elif self.operator is not None:
            status = "with_operator" if operator_connected else "operator_away"
        else:
            status = "waiting"
        return LiveTask(
            task_id=task.id,
            persona=task.persona,
            api=task.api,
            arm=task.arm,
            participant=task.participant,
            conversation_id=task.conversation_id,
            received_at=task.received_at,
            deadline=task.deadline,
            status=status,
            operator_key_id=self.operator,
            attempt=task.attempt,
            waiters=self.waiting,
            turns=len(task.messages),
            last_message=turn_text(task.messages[-1]) if task.messages else "",
            draft=excerpt(self.draft or self.model_draft or ""),
        )


class SettledDoc(BaseModel):
    """An answered task after its last waiting request had it: kept for retries."""

    task_id: str
    request_key: str
    request_digest: str  # what was asked, for a retry to be checked against
    delivery: Delivery
    delivered: bool  # some request received it (the record says `delivered`)
