"""The dispatcher's backend: what must hold across woz processes, as plain values.

A woz process has one `Front` (`woz.dispatch.front`): its waiting requests'
futures, the operator sockets it holds, live drafts. Everything shared (the
queue, assignment, leases and the reconnect grace, deadlines, retry
de-duplication, in-flight limits, conversation owners) is the backend's. Its
calls are async and take and return serialisable values; what it decides for a
front it does not run in (an operator's task to send, a request's answer to
wake) reaches that front as an `Event` on the front's channel.

One implementation of the rules (`woz.dispatch.rules.SharedBackend`) runs over
a key-value seam (`woz.dispatch.kv`), in memory or in Redis.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Protocol

from pydantic import BaseModel, Field, TypeAdapter

from woz.errors import ErrorKind, WozError
from woz.models.live import LiveDispatch
from woz.models.record import Timings
from woz.models.task import Answer, Task


class Delivery(BaseModel):
    """A committed answer, ready to render: the record already exists."""

    answer: Answer
    record_id: str


class QueueStatus(BaseModel):
    waiting: int
    operators_online: int
    oldest_wait_s: float


class ErrorInfo(BaseModel):
    """A `WozError` as it crosses processes."""

    kind: ErrorKind
    message: str
    code: str | None = None
    retry_after: int | None = None
    retryable: bool | None = None

    @classmethod
    def of(cls, error: WozError) -> ErrorInfo:
        return cls(
            kind=error.kind,
            message=error.message,
            code=error.code,
            retry_after=error.retry_after,
            retryable=error.retryable,
        )

    def error(self) -> WozError:
        return WozError(
            self.kind,
            self.message,
            code=self.code,
            retry_after=self.retry_after,
            retryable=self.retryable,
        )


# -- events, sent to one front's channel ---------------------------------------


class Assigned(BaseModel):
    """Send `task` to `operator`, whose socket this front holds."""

    kind: Literal["assigned"] = "assigned"
    operator: str
    task: Task


class Revoked(BaseModel):
    kind: Literal["revoked"] = "revoked"
    operator: str
    task_id: str
    reason: str


class ModelDraft(BaseModel):
    """A model's draft of a task held by `operator` (assist mode)."""

    kind: Literal["model_draft"] = "model_draft"
    operator: str
    task_id: str
    text: str
    done: bool
    error: str | None = None


class Outcome(BaseModel):
    """The task ended: its requests waiting on this front get `delivery` or `error`."""

    kind: Literal["outcome"] = "outcome"
    task_id: str
    delivery: Delivery | None = None
    error: ErrorInfo | None = None


class Draft(BaseModel):
    """The operator's draft of a live task changed (for the requests waiting here)."""

    kind: Literal["draft"] = "draft"
    task_id: str
    text: str


class TakenUp(BaseModel):
    """An operator has been given the task for the first time."""

    kind: Literal["taken_up"] = "taken_up"
    task_id: str


class Replaced(BaseModel):
    """`operator` connected again through another front: the socket this front holds for
    them is stale (a half-open connection, a console left open in another tab)."""

    kind: Literal["replaced"] = "replaced"
    operator: str


class VoiceSession(BaseModel):
    """A voice session opened in a conversation `operator` was chosen for: their
    console may listen to it live (`woz.api.realtime.listen`) before its first task."""

    kind: Literal["voice_session"] = "voice_session"
    operator: str
    session_id: str
    conversation_id: str
    model: str
    participant: str | None = None


class VoiceFrame(BaseModel):
    """One frame of a voice session, relayed to the processes whose consoles listen to
    it (`woz.api.realtime.relay`): audio (base64 PCM16), a state, or its end."""

    kind: Literal["voice_frame"] = "voice_frame"
    session_id: str
    audio: str | None = None
    state: dict[str, Any] | None = None
    ended: bool = False


class QueueChanged(BaseModel):
    """The queue or who is online changed: operators here may want new figures."""

    kind: Literal["queue_changed"] = "queue_changed"


Event = Annotated[
    Assigned
    | Revoked
    | ModelDraft
    | Outcome
    | Draft
    | TakenUp
    | QueueChanged
    | VoiceSession
    | VoiceFrame
    | Replaced,
    Field(discriminator="kind"),
]
EVENT: TypeAdapter[Event] = TypeAdapter(Event)


# -- results -------------------------------------------------------------------


class Started(BaseModel):
    """A new task, queued (or given to its model): `task` as the backend completed it;
    `taken_up` when an operator (or its model) has it already."""

    task: Task
    taken_up: bool = False


class Joined(BaseModel):
    """A retry joined the task in flight of its request (`delivery` is set when that
    task is answered and its answer still being sent)."""

    task: Task
    draft: str
    taken_up: bool
    delivery: Delivery | None = None


class Replayed(BaseModel):
    """A retry of a request already answered: the answer again, at once."""

    task_id: str
    delivery: Delivery


class ReplyContext(BaseModel):
    """What an operator's answer is checked and recorded against; the task is now
    `answering` until `complete` or `abort_reply`."""

    task: Task
    timings: Timings
    streamed: str
    model_draft: str | None
    draft_source: str | None
    draft_error: str | None


class Expiring(BaseModel):
    """A task whose deadline passed, taken from its operator: the front that found it
    answers it with the study's fallback, or records it expired and fails it."""

    task: Task
    timings: Timings
    last_operator: str | None


class Backend(Protocol):
    """The shared half of the dispatcher; see the module docstring."""

    async def open(self, front: str) -> None:
        """Start serving `front` (this process's front id)."""

    async def join(self, task: Task, front: str) -> Joined | Replayed | None:
        """A retry (`task.may_join`) joins its request's task or answer; else None."""

    async def start(
        self, task: Task, front: str, continues: str | None, history: str
    ) -> Joined | Replayed | Started:
        """Queue an admitted task (or join one that got in meanwhile).

        `continues` is the digest that names the conversation its messages
        continue, `history` the digest of all its messages. Raises `Unavailable`
        (no operator, queue full) or the 429 of the participant's in-flight limit.
        """

    async def finish(self, task_id: str, front: str, delivered: bool) -> None:
        """A request waiting on `front` ended: delivered, or its client left."""

    async def connect(self, operator: str, display_name: str, front: str) -> list[Task]:
        """An operator's socket opened here; returns the tasks they hold, oldest first."""

    async def disconnect(self, operator: str, front: str) -> None: ...

    async def ready(self, operator: str, capacity: int) -> None: ...

    async def pause(self, operator: str) -> None: ...

    async def typing(self, operator: str, task_id: str, text: str) -> None: ...

    async def streamed(self, task_id: str, text: str) -> None:
        """Live mode: `text` reached a participant; the answer must start with it."""

    async def model_draft(
        self,
        task_id: str,
        text: str,
        done: bool,
        error: str | None,
        source: str,
        failure: str | None = None,
    ) -> bool:
        """A model's draft so far, for the task's operator; False once the task ended.
        `error` is the reason the operator is shown, `failure` what the record keeps."""

    async def begin_reply(self, operator: str, task_id: str) -> ReplyContext: ...

    async def abort_reply(self, task_id: str) -> None: ...

    async def complete(self, task_id: str, delivery: Delivery) -> bool:
        """The task's answer is committed; wakes its requests. False if none waits."""

    async def fail(self, task_id: str, error: WozError) -> None: ...

    async def release(self, operator: str, task_id: str) -> None: ...

    async def expire_due(self, front: str) -> tuple[list[Expiring], float | None]:
        """Run the timers that are due; the expired tasks this front must end, and
        when the next timer falls due (a wall-clock time), if known."""

    async def status(self) -> QueueStatus: ...

    async def task(self, task_id: str) -> Task | None: ...

    async def live(self, max_tasks: int, participant: str | None) -> LiveDispatch: ...

    async def sweep(self, front: str) -> bool:
        """Say `front` is alive; end the part of fronts that stopped answering (their
        operators enter the reconnect grace, their requests are gone). True when
        `front` itself had been taken for gone (or is new)."""

    async def close_front(self, front: str) -> None:
        """This front stops: the tasks that only its requests waited for end, expired."""

    async def close(self) -> None: ...
