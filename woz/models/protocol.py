"""Operator protocol v1 (DESIGN 4.2): the frames an operator may send, and the
views of tasks the server sends. One JSON object per text frame, with a `type`.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, field_validator

from woz.models.study import PermittedUse
from woz.models.task import Message, Task, ToolCall, ToolSpec

PROTOCOL_VERSION = 1


class _Frame(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ReadyFrame(_Frame):
    type: Literal["ready"]
    capacity: int = Field(default=1, ge=1, le=50)


class PauseFrame(_Frame):
    type: Literal["pause"]


class TypingFrame(_Frame):
    type: Literal["typing"]
    task_id: str
    text: str = Field(max_length=200_000)


class ReplyToolCall(_Frame):
    name: str = Field(min_length=1)
    arguments: str | dict[str, Any] = "{}"
    id: str | None = None

    @field_validator("arguments", mode="after")
    @classmethod
    def _as_json_text(cls, value: str | dict[str, Any]) -> str:
        return value if isinstance(value, str) else json.dumps(value)

    def to_call(self) -> ToolCall:
        assert isinstance(self.arguments, str)
        if self.id:
            return ToolCall(id=self.id, name=self.name, arguments=self.arguments)
        return ToolCall(name=self.name, arguments=self.arguments)


class ReplyFrame(_Frame):
    type: Literal["reply"]
    task_id: str
    content: str | None = Field(default=None, max_length=1_000_000)
    tool_calls: list[ReplyToolCall] | None = None
    finish_reason: Literal["stop", "length", "content_filter"] | None = None
    # A voice turn: what the user said, as the operator heard it.
    transcript: str | None = Field(default=None, max_length=100_000)


class ReleaseFrame(_Frame):
    type: Literal["release"]
    task_id: str


class ReportErrorFrame(_Frame):
    """The operator reports that an answer they sent was a mistake (a wizard error)."""

    type: Literal["report_error"]
    record_id: str
    note: str = Field(min_length=1, max_length=2000)


class MyWorkFrame(_Frame):
    """The operator asks for their own time, tasks and pay so far; answered with `my_work`."""

    type: Literal["my_work"]


class PingFrame(_Frame):
    """Are you there? Answered with `pong`: lets a client notice a dead connection."""

    type: Literal["ping"]


class ReuseConsentFrame(_Frame):
    """The operator's consent to the study's reuse agreement `version`, for `scopes`
    (permitted uses; empty withdraws it)."""

    type: Literal["reuse_consent"]
    version: str
    scopes: list[PermittedUse] = Field(max_length=10)


OperatorFrame = Annotated[
    ReadyFrame
    | PauseFrame
    | TypingFrame
    | ReplyFrame
    | ReleaseFrame
    | ReuseConsentFrame
    | ReportErrorFrame
    | MyWorkFrame
    | PingFrame,
    Field(discriminator="type"),
]
OPERATOR_FRAME: TypeAdapter[OperatorFrame] = TypeAdapter(OperatorFrame)


_MESSAGES: TypeAdapter[list[Message]] = TypeAdapter(list[Message])
_TOOLS: TypeAdapter[list[ToolSpec]] = TypeAdapter(list[ToolSpec])


def task_view(task: Task) -> dict[str, Any]:
    """The task as an operator sees it in `task.assigned`."""
    return {
        "id": task.id,
        "conversation_id": task.conversation_id,
        "participant": task.participant,
        "persona": task.persona,
        "api": task.api,
        "messages": _MESSAGES.dump_python(task.messages, mode="json", exclude_none=True),
        "tools": _TOOLS.dump_python(task.tools, mode="json", exclude_none=True),
        "tool_choice": task.tool_choice.model_dump(mode="json"),
        "parallel_tool_calls": task.parallel_tool_calls,
        "response_format": task.response_format.model_dump(mode="json"),
        "stream": task.stream,
        "live": task.live,
        "max_tokens": task.max_tokens,
        "deadline": task.deadline.isoformat() if task.deadline else None,
        "draft": task.draft,
        "attempt": task.attempt,
        "mode": task.mode,
        "arm": task.arm if task.reveal_arm else None,
        # A voice turn (`openai.realtime`): the utterance's length, and whether the
        # participant cut the previous answer short (what had been said by then).
        "voice": task.request.get("voice") if task.api == "openai.realtime" else None,
    }
