"""The Realtime API's client events as pydantic models, and the server events woz sends.

Client events are validated at the edge: an event that does not parse becomes
an `error` event naming the field (`param`) and the client's `event_id`, and the
session goes on. Unknown fields are accepted and ignored, as everywhere in woz.
Shapes follow the official `openai` package's `types/realtime` (the GA protocol:
`session.type = "realtime"`, `output_modalities`, `audio.input` / `audio.output`).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from woz.api.realtime.audio import AudioFormat
from woz.jsontext import loads
from woz.models.task import new_id

MAX_EVENT_BYTES = 16 * 1024 * 1024  # an append of 15 MiB of base64 audio, as OpenAI allows


class _Loose(BaseModel):
    model_config = ConfigDict(extra="ignore")


class Format(_Loose):
    type: AudioFormat = "audio/pcm"
    rate: Literal[24000] | None = None


class TurnDetection(_Loose):
    """`server_vad` settings; `semantic_vad` is served by the same energy detector."""

    type: Literal["server_vad", "semantic_vad"] = "server_vad"
    threshold: float | None = Field(default=None, ge=0.0, le=1.0)
    prefix_padding_ms: int | None = Field(default=None, ge=0, le=10_000)
    silence_duration_ms: int | None = Field(default=None, ge=0, le=10_000)
    create_response: bool | None = None
    interrupt_response: bool | None = None


class AudioInput(_Loose):
    format: Format | None = None
    turn_detection: TurnDetection | None = Field(default=None)
    transcription: dict[str, Any] | None = None


class AudioOutput(_Loose):
    format: Format | None = None
    voice: str | dict[str, Any] | None = None
    speed: float | None = Field(default=None, ge=0.25, le=1.5)


class AudioConfig(_Loose):
    input: AudioInput | None = None
    output: AudioOutput | None = None


class FunctionTool(_Loose):
    type: Literal["function"] = "function"
    name: str = Field(min_length=1, max_length=200)
    description: str | None = None
    parameters: dict[str, Any] = Field(default_factory=dict)


class NamedTool(_Loose):
    type: Literal["function"]
    name: str


ToolChoiceWire = Literal["auto", "none", "required"] | NamedTool


class SessionConfig(_Loose):
    """What `session.update` may set; a field left out keeps its value."""

    type: Literal["realtime"] | None = None
    output_modalities: list[Literal["text", "audio"]] | None = Field(
        default=None, min_length=1, max_length=1
    )
    instructions: str | None = Field(default=None, max_length=100_000)
    audio: AudioConfig | None = None
    tools: list[FunctionTool] | None = Field(default=None, max_length=128)
    tool_choice: ToolChoiceWire | None = None
    max_output_tokens: int | Literal["inf"] | None = None


class ContentIn(_Loose):
    type: Literal["input_text", "input_audio", "input_image", "output_text", "output_audio", "text"]
    text: str | None = Field(default=None, max_length=1_000_000)
    audio: str | None = None
    transcript: str | None = Field(default=None, max_length=1_000_000)
    image_url: str | None = None


class MessageItem(_Loose):
    type: Literal["message"]
    id: str | None = Field(default=None, max_length=64)
    role: Literal["user", "assistant", "system"]
    content: list[ContentIn] = Field(max_length=64)


class FunctionCallOutputItem(_Loose):
    type: Literal["function_call_output"]
    id: str | None = Field(default=None, max_length=64)
    call_id: str = Field(min_length=1)
    output: str = Field(max_length=1_000_000)


class FunctionCallItem(_Loose):
    type: Literal["function_call"]
    id: str | None = Field(default=None, max_length=64)
    call_id: str | None = None
    name: str
    arguments: str = "{}"


ItemIn = Annotated[
    MessageItem | FunctionCallOutputItem | FunctionCallItem, Field(discriminator="type")
]


class ResponseParams(_Loose):
    instructions: str | None = Field(default=None, max_length=100_000)
    output_modalities: list[Literal["text", "audio"]] | None = Field(
        default=None, min_length=1, max_length=1
    )
    tools: list[FunctionTool] | None = None
    tool_choice: ToolChoiceWire | None = None
    conversation: str | None = None
    metadata: dict[str, str] | None = None


class _Event(_Loose):
    event_id: str | None = Field(default=None, max_length=512)


class SessionUpdate(_Event):
    type: Literal["session.update"]
    session: SessionConfig


class BufferAppend(_Event):
    type: Literal["input_audio_buffer.append"]
    audio: str


class BufferCommit(_Event):
    type: Literal["input_audio_buffer.commit"]


class BufferClear(_Event):
    type: Literal["input_audio_buffer.clear"]


class ItemCreate(_Event):
    type: Literal["conversation.item.create"]
    previous_item_id: str | None = None
    item: ItemIn


class ItemTruncate(_Event):
    type: Literal["conversation.item.truncate"]
    item_id: str
    content_index: int = 0
    audio_end_ms: int = Field(ge=0)


class ItemDelete(_Event):
    type: Literal["conversation.item.delete"]
    item_id: str


class ItemRetrieve(_Event):
    type: Literal["conversation.item.retrieve"]
    item_id: str


class ResponseCreate(_Event):
    type: Literal["response.create"]
    response: ResponseParams | None = None


class ResponseCancel(_Event):
    type: Literal["response.cancel"]
    response_id: str | None = None


class OutputAudioClear(_Event):
    type: Literal["output_audio_buffer.clear"]


ClientEvent = Annotated[
    SessionUpdate
    | BufferAppend
    | BufferCommit
    | BufferClear
    | ItemCreate
    | ItemTruncate
    | ItemDelete
    | ItemRetrieve
    | ResponseCreate
    | ResponseCancel
    | OutputAudioClear,
    Field(discriminator="type"),
]
_CLIENT_EVENT: TypeAdapter[ClientEvent] = TypeAdapter(ClientEvent)
KNOWN_TYPES = (
    "session.update, input_audio_buffer.append, input_audio_buffer.commit, "
    "input_audio_buffer.clear, conversation.item.create, conversation.item.truncate, "
    "conversation.item.delete, conversation.item.retrieve, "
    "response.create, response.cancel, output_audio_buffer.clear"
)


class EventError(Exception):
    """A client event refused; becomes an `error` server event, and the session goes on."""

    def __init__(
        self,
        message: str,
        *,
        code: str = "invalid_value",
        param: str | None = None,
        event_id: str | None = None,
        kind: str = "invalid_request_error",
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.param = param
        self.event_id = event_id
        self.kind = kind


def parse_client_event(text: str | bytes) -> ClientEvent:
    """One client event; `EventError` saying what is wrong with it otherwise."""
    try:
        raw = loads(text)
    except ValueError as exc:
        raise EventError(f"The event is not valid JSON: {exc}.", code="invalid_json") from exc
    if not isinstance(raw, dict):
        raise EventError("An event must be a JSON object with a `type`.", code="invalid_event")
    event_id = raw.get("event_id") if isinstance(raw.get("event_id"), str) else None
    kind = raw.get("type")
    if not isinstance(kind, str):
        raise EventError(
            "The event has no `type`.",
            code="missing_required_parameter",
            param="type",
            event_id=event_id,
        )
    try:
        return _CLIENT_EVENT.validate_python(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = [str(p) for p in first["loc"]]
        if first["type"] == "union_tag_invalid" and not where[1:]:
            raise EventError(
                f"Invalid value: '{kind[:100]}'. Supported values are: {KNOWN_TYPES}.",
                code="invalid_value",
                param="type",
                event_id=event_id,
            ) from exc
        # The union's tag appears in the location; the client's field path does not have it.
        path = ".".join(p for p in where[1:] if p not in _TAGS)
        raise EventError(
            f"Invalid '{path}': {first['msg']}.",
            code="missing_required_parameter" if first["type"] == "missing" else "invalid_value",
            param=path or None,
            event_id=event_id,
        ) from exc


_TAGS = frozenset({"message", "function_call_output", "function_call"})


def event(kind: str, **fields: Any) -> dict[str, Any]:
    """A server event of type `kind`, with a fresh `event_id`."""
    return {"type": kind, "event_id": new_id("event_", 10), **fields}


def error_event(error: EventError) -> dict[str, Any]:
    """The Realtime `error` event for a refused client event."""
    return event(
        "error",
        error={
            "type": error.kind,
            "code": error.code,
            "message": error.message,
            "param": error.param,
            "event_id": error.event_id,
        },
    )
