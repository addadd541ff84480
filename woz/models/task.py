"""Dialect-neutral tasks and answers.

A facade (OpenAI, Anthropic, ...) parses its wire format into a `Task`; the
dispatcher carries it to an operator; the operator's reply becomes an `Answer`
that the facade renders back. Nothing here knows a wire format.
"""

from __future__ import annotations

import random
import secrets
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Role = Literal["system", "user", "assistant", "tool"]
FinishReason = Literal["stop", "length", "tool_calls", "content_filter"]


# Identifiers are unique, not secret (secrets come from `secrets`), so a PRNG seeded
# from the OS serves them without a system call per id on the request path.
_ids = random.Random(secrets.token_bytes(32))


def new_id(prefix: str, nbytes: int = 12) -> str:
    """A random identifier with a readable prefix, such as `task_3f9a...`. Not a secret."""
    return f"{prefix}{_ids.getrandbits(nbytes * 8):0{nbytes * 2}x}"


class ProducedBy(StrEnum):
    """Who wrote the text of a record (DESIGN 4.5)."""

    HUMAN = "human"
    MODEL = "model"
    HUMAN_EDITED_MODEL_DRAFT = "human_edited_model_draft"
    FALLBACK = "fallback"


class ContentPart(BaseModel):
    """One part of a message: text, or a reference to an image or audio clip."""

    model_config = ConfigDict(frozen=True)

    type: Literal["text", "image", "audio", "file"]
    text: str | None = None
    url: str | None = None
    media_type: str | None = None


class ToolCall(BaseModel):
    """A function call chosen by the operator; `arguments` is a JSON string."""

    id: str = Field(default_factory=lambda: new_id("call_"))
    name: str
    arguments: str = "{}"


class Message(BaseModel):
    """A conversation turn, normalised whatever dialect the app used."""

    role: Role
    content: list[ContentPart] = Field(default_factory=list)
    tool_calls: list[ToolCall] = Field(default_factory=list)
    tool_call_id: str | None = None
    name: str | None = None

    def text(self) -> str:
        """The message's text parts joined, for hashing, counting and display."""
        return "".join(part.text or "" for part in self.content if part.type == "text")


class ToolSpec(BaseModel):
    """A function the app offers; `parameters` is its JSON schema."""

    name: str
    description: str | None = None
    parameters: dict[str, Any] = Field(default_factory=dict)


class ToolChoice(BaseModel):
    """What the app allows: any answer, a tool call required, one named tool, or no tools.

    Frozen, so the common choices are shared (`TOOL_CHOICE_AUTO`) by every task
    instead of each waiting request holding its own copy."""

    model_config = ConfigDict(frozen=True)

    mode: Literal["auto", "required", "none", "named"] = "auto"
    name: str | None = None


class ResponseFormat(BaseModel):
    """Plain text, any JSON object, or JSON valid against `json_schema`.

    Frozen, so plain text and any JSON object are shared (`TEXT_FORMAT`,
    `JSON_OBJECT_FORMAT`) by every task that asks for them."""

    model_config = ConfigDict(frozen=True)

    type: Literal["text", "json_object", "json_schema"] = "text"
    name: str | None = None
    json_schema: dict[str, Any] | None = None
    strict: bool = False


TOOL_CHOICE_AUTO = ToolChoice(mode="auto")
TOOL_CHOICE_NONE = ToolChoice(mode="none")
TOOL_CHOICE_REQUIRED = ToolChoice(mode="required")
TEXT_FORMAT = ResponseFormat()
JSON_OBJECT_FORMAT = ResponseFormat(type="json_object")


class Task(BaseModel):
    """One API request waiting for a human answer."""

    id: str = Field(default_factory=lambda: new_id("task_"))
    study_id: str
    persona: str
    api: str
    conversation_id: str = ""
    participant: str | None = None
    messages: list[Message]
    tools: list[ToolSpec] = Field(default_factory=list)
    tool_choice: ToolChoice = Field(default_factory=lambda: TOOL_CHOICE_AUTO)
    parallel_tool_calls: bool = True
    response_format: ResponseFormat = Field(default_factory=lambda: TEXT_FORMAT)
    stream: bool = False
    live: bool = False
    max_tokens: int | None = None
    received_at: datetime
    deadline: datetime | None = None
    draft: str | None = None
    attempt: int = 1
    request_key: str
    # Whether this request may join the task in flight, or get the answer already
    # given, of its request key: only a retry may (`woz.api.core.intake` decides, by the
    # request's retry signal). Any other request is a task of its own.
    may_join: bool = False
    request_digest: str = ""  # what was asked: path, conversation and body
    scope: str = ""
    mode: Literal["human", "assist", "model"] = "human"
    upstream: str | None = None
    arm: str | None = None
    requested_arm: str | None = None
    reveal_arm: bool = False
    tokens_per_second: float | None = None
    first_token_delay_ms: int | None = None
    request: dict[str, Any] = Field(default_factory=dict)
    # Set by the research admission step (woz.research.admission): the consent in
    # force when the task arrived, what was redacted before an operator saw it,
    # and the unredacted messages only when the study keeps raw text.
    consent_id: str | None = None
    redactions: dict[str, int] = Field(default_factory=dict)
    raw_messages: list[Message] | None = None

    @property
    def drafts_heard(self) -> bool:
        """Whether the waiting client follows the operator's drafts: a live task, or a
        spoken turn whose wizard may start with a filler that is said at once."""
        voice = self.request.get("voice")
        return self.live or bool(isinstance(voice, dict) and voice.get("fillers"))


class Answer(BaseModel):
    """What goes back to the app: text or tool calls, and who produced it."""

    content: str | None = None
    tool_calls: list[ToolCall] = Field(default_factory=list)
    finish_reason: FinishReason = "stop"
    produced_by: ProducedBy = ProducedBy.HUMAN
    draft: str | None = None
    draft_source: str | None = None
    edit_ratio: float | None = None
    model: str | None = None
    # Why the model's draft failed, when it did: the operator answered without it.
    draft_failure: str | None = None
    # A voice turn: what the operator heard the user say (they may type it).
    input_transcript: str | None = None

    def as_message(self) -> Message:
        """The answer as the assistant turn that continues its conversation."""
        content = [ContentPart(type="text", text=self.content)] if self.content else []
        return Message(role="assistant", content=content, tool_calls=list(self.tool_calls))
