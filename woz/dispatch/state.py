"""What the in-memory dispatcher knows of each task and operator."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from woz.dispatch.base import Delivery, DraftFeed, OperatorLink
from woz.dispatch.conversations import History
from woz.dispatch.policies import OperatorLoad
from woz.models.live import LiveTask, LiveTaskStatus, excerpt, turn_text
from woz.models.record import Timings
from woz.models.task import Task
from woz.models.typing_trace import TypingRecorder


def now() -> datetime:
    return datetime.now(UTC)


@dataclass
class OperatorState(OperatorLoad):
    """An operator: their load, their socket (None during the reconnect grace), readiness."""

    display_name: str = ""
    link: OperatorLink | None = None
    ready: bool = False
    grace: asyncio.TimerHandle | None = None

    @property
    def reachable(self) -> bool:
        return self.ready and self.link is not None


@dataclass
class TaskState:
    """A task in flight, shared by every request that joined it."""

    task: Task
    outcome: asyncio.Future[Delivery]
    history: History  # the conversation so far, as a running digest
    drafts: DraftFeed = field(default_factory=DraftFeed)
    waiters: int = 1
    operator: str | None = None  # who holds the lease now
    last_operator: str | None = None  # who held it last, for the record
    queued_at: float = 0.0
    assigned_at: datetime | None = None
    first_keystroke_at: datetime | None = None
    typing: TypingRecorder | None = None  # made at the first keystroke
    answering: bool = False
    finished: bool = False
    delivered: bool = False
    record_id: str | None = None
    declined_by: set[str] = field(default_factory=set)
    drafting: asyncio.Task[None] | None = None
    model_draft: str | None = None  # the upstream's draft so far (assist mode)
    draft_source: str | None = None
    draft_error: str | None = None  # why the draft failed, as the record's `failure` says

    def taken_up(self) -> bool:
        """Whether an operator has been given the task (or the model answers it)."""
        return self.assigned_at is not None or self.task.mode == "model"

    def for_operator(self) -> Task:
        """The task as an operator should get it: with the latest human or model draft."""
        draft = self.drafts.text or self.model_draft
        if draft:
            return self.task.model_copy(update={"draft": draft})
        return self.task

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
            waiters=self.waiters,
            turns=len(task.messages),
            last_message=turn_text(task.messages[-1]) if task.messages else "",
            draft=excerpt(self.drafts.text or self.model_draft or ""),
        )

    def note_typing(self, text: str) -> None:
        """The operator's whole draft now: its first keystroke's time, the live draft, and
        the typing trace for the record."""
        at = now()
        if self.first_keystroke_at is None and text:
            self.first_keystroke_at = at
        if self.typing is None:
            self.typing = TypingRecorder(self.task.received_at)
        self.typing.note(text, at)
        self.drafts.update(text)

    def timings(self) -> Timings:
        return Timings(
            received_at=self.task.received_at,
            assigned_at=self.assigned_at,
            first_keystroke_at=self.first_keystroke_at,
            answered_at=now(),
            attempts=self.task.attempt,
            typing=self.typing.trace if self.typing and self.typing.trace.events else None,
        )


def fail_outcome(outcome: asyncio.Future[Delivery], error: BaseException) -> None:
    """Fail `outcome` with `error`, marked as seen whether or not a request still waits.

    Marked here rather than by a done-callback on every outcome: that would cost
    a loop callback per answered task to guard the few that fail.
    """
    outcome.set_exception(error)
    outcome.exception()


def live_tasks(
    states: Iterable[TaskState],
    connected: Callable[[str], bool],
    max_tasks: int,
    participant: str | None,
) -> tuple[list[LiveTask], int]:
    """The first `max_tasks` tasks someone waits for (only `participant`'s, if given),
    described for the watch view, and how many such tasks there are in all.

    A task whose client left is only kept for a retry: nobody is waiting on it."""
    watched = [
        state
        for state in states
        if not state.finished
        and state.waiters > 0
        and participant in (None, state.task.participant)
    ]
    listed = [state.live(connected(state.operator or "")) for state in watched[:max_tasks]]
    return listed, len(watched)
