"""Operator protocol v1, server to operator (docs/operator-protocol.md): typed frames.

The server builds every frame it sends from these models (`OperatorConnection.
send_frame`), and `woz.operators.client.OperatorClient` parses every frame it gets
with `SERVER_FRAME`, so both sides of the socket agree on one definition. Models
allow fields they do not name: a newer server may add some, and a client ignores
what it does not know.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter


class _ServerFrame(BaseModel):
    model_config = ConfigDict(extra="allow")


class HelloFrame(_ServerFrame):
    type: Literal["hello"] = "hello"
    protocol: int
    operator: dict[str, Any]
    study: dict[str, Any]
    snippets: list[dict[str, Any]] = Field(default_factory=list)
    personas: list[dict[str, Any]] = Field(default_factory=list)
    reuse_agreement: dict[str, Any] | None = None


class TaskView(_ServerFrame):
    """A task as an operator sees it; messages normalised whatever the app's dialect."""

    id: str
    conversation_id: str
    participant: str | None
    persona: str
    api: str
    messages: list[dict[str, Any]]
    tools: list[dict[str, Any]]
    tool_choice: dict[str, Any]
    parallel_tool_calls: bool
    response_format: dict[str, Any]
    stream: bool
    live: bool
    max_tokens: int | None
    deadline: str | None
    draft: str | None
    attempt: int
    mode: str
    arm: str | None


class TaskAssignedFrame(_ServerFrame):
    type: Literal["task.assigned"] = "task.assigned"
    task: TaskView


class TaskRevokedFrame(_ServerFrame):
    type: Literal["task.revoked"] = "task.revoked"
    task_id: str
    reason: str


class TaskDraftFrame(_ServerFrame):
    """A model's draft of a held task (assist mode), as it streams in."""

    type: Literal["task.draft"] = "task.draft"
    task_id: str
    text: str
    done: bool
    error: str | None = None


class ReplyAckFrame(_ServerFrame):
    type: Literal["reply.ack"] = "reply.ack"
    task_id: str
    record_id: str


class ReplyError(_ServerFrame):
    code: str
    message: str


class ReplyRejectedFrame(_ServerFrame):
    type: Literal["reply.rejected"] = "reply.rejected"
    task_id: str
    error: ReplyError


class QueueFrame(_ServerFrame):
    type: Literal["queue"] = "queue"
    waiting: int
    operators_online: int
    oldest_wait_s: float


class ReuseConsentRecordedFrame(_ServerFrame):
    type: Literal["reuse_consent.recorded"] = "reuse_consent.recorded"
    consent: dict[str, Any]


class PongFrame(_ServerFrame):
    type: Literal["pong"] = "pong"


class MyWorkReplyFrame(_ServerFrame):
    type: Literal["my_work"] = "my_work"
    work: dict[str, Any]


class ErrorReportedFrame(_ServerFrame):
    type: Literal["error_reported"] = "error_reported"
    record_id: str
    wizard_error: str | None


class NoticeFrame(_ServerFrame):
    type: Literal["notice"] = "notice"
    text: str
    sender: str
    at: str


class VoiceSessionFrame(_ServerFrame):
    """A voice session opened that this operator was chosen to answer (an extension of
    protocol v1: a client that ignores it gets the session's first task as before).
    `GET /operator/voice/{session_id}` hears it live from now on."""

    type: Literal["voice_session"] = "voice_session"
    session_id: str
    conversation_id: str
    model: str
    participant: str | None = None


class ErrorFrame(_ServerFrame):
    type: Literal["error"] = "error"
    code: str
    message: str
    task_id: str | None = None


ServerFrame = Annotated[
    HelloFrame
    | TaskAssignedFrame
    | TaskRevokedFrame
    | TaskDraftFrame
    | ReplyAckFrame
    | ReplyRejectedFrame
    | QueueFrame
    | ReuseConsentRecordedFrame
    | PongFrame
    | MyWorkReplyFrame
    | ErrorReportedFrame
    | NoticeFrame
    | VoiceSessionFrame
    | ErrorFrame,
    Field(discriminator="type"),
]
SERVER_FRAME: TypeAdapter[ServerFrame] = TypeAdapter(ServerFrame)


def frame_json(frame: BaseModel) -> dict[str, Any]:
    """`frame` as the JSON object sent: its `type` and the fields it was given."""
    # `type` has a default, so it is never "set": written first, by hand. (Any model of
    # this module has it; the parameter is typed loosely for the connection's sake.)
    kind = getattr(frame, "type")  # noqa: B009
    return {"type": kind, **frame.model_dump(mode="json", exclude_unset=True)}
