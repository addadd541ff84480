"""The Dispatcher protocol (what facades, the operator hub and the watch view call)
and the types that cross it.

The dispatcher knows tasks and operators, never wire formats. Facades submit
tasks and await a `Delivery`; the operator hub forwards operator actions and
receives frames through an `OperatorLink`. `woz.dispatch.front.Front` is the one
implementation: process-local, over a `Backend` shared by every woz process.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from woz.dispatch.backend import Delivery, QueueStatus, VoiceSession
from woz.models.live import LiveDispatch
from woz.models.record import Timings
from woz.models.task import Answer, Task


class Rejected(Exception):
    """An operator action refused, with a code the console can show."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class OperatorIdentity:
    key_id: str
    display_name: str


class OperatorLink(Protocol):
    """One connected operator, as the dispatcher sees it. Sends never block."""

    def send_assigned(self, task: Task) -> None: ...

    def send_revoked(self, task_id: str, reason: str) -> None: ...

    def send_queue(self, status: QueueStatus) -> None: ...

    def send_draft(self, task_id: str, text: str, *, done: bool, error: str | None) -> None:
        """A model's draft of a held task, as it streams in (assist mode)."""

    def send_replaced(self) -> None:
        """The operator connected again elsewhere: tell this socket so, then close it."""

    def send_voice_session(self, notice: VoiceSession) -> None:
        """A voice session this operator was chosen to answer, before its first task."""


class TaskHandle:
    """One API request's hold on a task; several handles may share a task (retries).

    `outcome` resolves with a `Delivery`, or fails with a `WozError` (such as an
    expired task). In live mode `draft` follows the operator's typing; await
    `draft_changed()` to be woken on the next change. `taken_up` says whether an
    operator (or the persona's model) has had the task yet.
    """

    def __init__(
        self,
        task: Task,
        outcome: asyncio.Future[Delivery],
        drafts: DraftFeed,
        taken_up: Callable[[], bool] = lambda: True,
        streamed: Callable[[str], None] = lambda text: None,
    ) -> None:
        self.task = task
        self.outcome = outcome
        self._drafts = drafts
        self._taken_up = taken_up
        self._streamed = streamed

    @property
    def taken_up(self) -> bool:
        return self._taken_up()

    @property
    def draft(self) -> str:
        return self._drafts.text

    async def draft_changed(self) -> None:
        await self._drafts.changed()

    def mark_streamed(self, text: str) -> None:
        """Live mode: `text` has reached the participant and can no longer change."""
        self._streamed(text)


class DraftFeed:
    """The latest draft of a task and a way to wait for the next one."""

    def __init__(self) -> None:
        self.text = ""
        self._event = asyncio.Event()

    def update(self, text: str) -> None:
        self.text = text
        self._event.set()
        self._event = asyncio.Event()

    async def changed(self) -> None:
        await self._event.wait()


class Recorder(Protocol):
    """Turns task outcomes into durable records; `answered` and `unanswered` return
    after the commit."""

    async def answered(
        self, task: Task, operator_key_id: str | None, answer: Answer, timings: Timings
    ) -> str:
        """Commit an answered task; returns the record id."""

    async def unanswered(
        self,
        task: Task,
        operator_key_id: str | None,
        status: str,
        timings: Timings,
        *,
        failure: str | None = None,
    ) -> None:
        """Commit a task that ended without an answer (`failure` says why, if it failed)."""

    def delivered(self, record_id: str, ok: bool, at: datetime) -> None:
        """Note that the answer reached the app (or did not); committed soon, not waited for."""

    def replayed(self, record_id: str) -> None:
        """Count one more time the record's answer was given again, to a retry of its
        request; committed soon, not waited for."""


Admission = Callable[[Task], Awaitable[Task]]
"""A check run on each new task before it is queued (not on retries that join one).

It may refuse the task by raising a `WozError` (say, consent missing), or return it
changed (say, with personal data redacted before any operator sees it).
"""


def chain(steps: list[Admission]) -> Admission:
    """One admission running `steps` in order, each on the task the previous returned."""

    async def admit(task: Task) -> Task:
        for step in steps:
            task = await step(task)
        return task

    return admit


class Dispatcher(Protocol):
    async def submit(self, task: Task) -> TaskHandle:
        """Queue `task`, or, if it is a retry (`task.may_join`), join the task in flight
        or get the answer already given for its request key (`woz.dispatch.retries`).

        Raises `Unavailable` at once when no operator is online or the queue is full.
        """

    def finish(self, handle: TaskHandle, delivered: bool) -> None:
        """The request behind `handle` ended: delivered, or its client left.

        Synchronous, so that it runs to the end even in a cancelled handler."""

    async def connect(self, operator: OperatorIdentity, link: OperatorLink) -> None:
        """An operator's socket opened; its held tasks are sent to it again."""

    async def disconnect(self, operator_key_id: str, link: OperatorLink) -> None:
        """The socket closed: the operator's tasks wait out the reconnect grace."""

    async def ready(self, operator_key_id: str, capacity: int) -> None: ...

    async def pause(self, operator_key_id: str) -> None: ...

    async def typing(self, operator_key_id: str, task_id: str, text: str) -> None: ...

    async def reply(self, operator_key_id: str, task_id: str, answer: Answer) -> str:
        """Commit the operator's answer and wake the waiting request; returns the record id.

        Raises `Rejected` for an unknown task, a lost lease, a second answer, or an
        answer that breaks the task's schema or tool choice. Run it in a task that
        nothing cancels (the hub gives each reply its own): cancelled between the
        commit and the wake-up, a task would stay answered but undelivered.
        """

    async def release(self, operator_key_id: str, task_id: str) -> None: ...

    async def status(self) -> QueueStatus: ...

    async def task(self, task_id: str) -> Task | None:
        """A task someone still waits for, as it was admitted (None once it has ended)."""

    async def live(self, max_tasks: int, participant: str | None = None) -> LiveDispatch:
        """Operators present and the `max_tasks` oldest tasks in flight (only
        `participant`'s, if given), for a researcher watching. Cheap with thousands
        waiting: only the tasks listed are described."""

    async def voice_session(self, notice: VoiceSession) -> str | None:
        """A voice session is open in `notice.conversation_id`: choose its operator as
        for its next task (recorded as the conversation's owner) and tell them, unless
        they were told already. Returns their key id; None when no operator is ready (the
        first to become ready is then told, until `voice_session_ended`)."""

    async def voice_session_ended(self, session_id: str) -> None:
        """The voice session closed: an operator becoming ready is not told of it."""

    async def conversation_owner(self, conversation_id: str) -> str | None:
        """The operator the conversation's tasks go to (or went to last), if any."""

    async def close(self) -> None: ...
