"""What a researcher watching a study sees of it right now (the watch view).

The dispatcher fills `LiveTask` and `LiveOperator` from its own state; the watch
page adds the study's recent records. Participants appear by pseudonym, as in
the records; operators by the name their key was given, since the researcher
who watches is the one who manages them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel

from woz.models.task import Message

LiveTaskStatus = Literal["waiting", "with_operator", "operator_away", "answering", "model"]
"""`waiting` in the queue; `with_operator` held by a connected operator; `operator_away`
held by an operator in their reconnect grace; `answering` being committed; `model`
answered by the persona's model (control arm)."""

EXCERPT_CHARS = 2000  # longer texts are cut: the view is for watching, the record keeps all


def excerpt(text: str) -> str:
    return text if len(text) <= EXCERPT_CHARS else text[: EXCERPT_CHARS - 1] + "…"


def turn_text(message: Message) -> str:
    """A turn as one text for watching: its text, other parts and tool calls in brackets."""
    parts = [p.text or "" if p.type == "text" else f"[{p.type}]" for p in message.content]
    calls = [f"[{call.name}({call.arguments})]" for call in message.tool_calls]
    return excerpt("\n".join(text for text in [*parts, *calls] if text))


class LiveOperator(BaseModel):
    key_id: str
    name: str
    connected: bool
    ready: bool
    capacity: int
    holding: int


class LiveTask(BaseModel):
    task_id: str
    persona: str
    api: str
    arm: str | None
    participant: str | None
    conversation_id: str
    received_at: datetime
    deadline: datetime | None  # when the study's answer timeout ends it
    status: LiveTaskStatus
    operator_key_id: str | None
    attempt: int
    waiters: int  # requests waiting on it: more than one when an SDK retried
    turns: int  # messages in the conversation so far
    last_message: str  # the participant's latest message, as the operator sees it
    draft: str  # the operator's text as typed so far, or a model's draft


class LiveDispatch(BaseModel):
    """The dispatcher's part of the watch view: every operator, the oldest tasks."""

    operators: list[LiveOperator]
    tasks: list[LiveTask]
    in_flight: int  # all tasks someone waits for, listed or not
