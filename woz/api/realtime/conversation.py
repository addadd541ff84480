"""A Realtime session's conversation: its items as the client sees them, and as a task's messages.

Each item keeps its wire shape (what `conversation.item.added` / `done` carry,
without audio payloads: the API never echoes audio back) and the normalised
`Message` the wizard's task is built from. A user turn spoken aloud is an audio
part whose URL is the utterance saved for operators (`/operator/media/...`), plus
its transcript as text once the wizard has typed one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from woz.api.realtime.events import (
    EventError,
    FunctionCallItem,
    FunctionCallOutputItem,
    ItemIn,
    MessageItem,
)
from woz.models.task import ContentPart, Message, ToolCall, new_id

MAX_ITEMS = 2_000


def item_id() -> str:
    return new_id("item_", 12)


@dataclass
class Item:
    id: str
    wire: dict[str, Any]
    message: Message
    media_id: str | None = None  # the user's recorded audio, if this item is a spoken turn
    audio_ms: int = 0
    record_id: str | None = None  # an answer's record, for what the client says it played


@dataclass
class Conversation:
    items: list[Item] = field(default_factory=list)

    @property
    def last_id(self) -> str | None:
        return self.items[-1].id if self.items else None

    def add(self, item: Item) -> str | None:
        """Append `item`; returns the id of the item before it."""
        if len(self.items) >= MAX_ITEMS:
            raise EventError(
                f"The conversation has {MAX_ITEMS} items, the most a session holds: "
                "start a new session.",
                code="conversation_too_long",
            )
        previous = self.last_id
        self.items.append(item)
        return previous

    def find(self, wanted: str) -> Item | None:
        return next((item for item in self.items if item.id == wanted), None)

    def remove(self, wanted: str) -> Item | None:
        item = self.find(wanted)
        if item is not None:
            self.items.remove(item)
        return item

    def messages(self) -> list[Message]:
        return [item.message for item in self.items]

    def spoken_turns(self) -> list[Item]:
        return [item for item in self.items if item.media_id is not None]


def _base(kind: str, given: str | None) -> dict[str, Any]:
    return {
        "id": given or item_id(),
        "object": "realtime.item",
        "type": kind,
        "status": "completed",
    }


def audio_turn(media_id: str | None, media_url: str | None, audio_ms: int) -> Item:
    """A user turn spoken aloud, its audio saved at `media_url` (None: not kept)."""
    wire = _base("message", None) | {
        "role": "user",
        "content": [{"type": "input_audio", "transcript": None}],
    }
    part = ContentPart(type="audio", url=media_url, media_type="audio/wav")
    message = Message(role="user", content=[part])
    return Item(wire["id"], wire, message, media_id, audio_ms)


def set_transcript(item: Item, transcript: str) -> None:
    """What the wizard heard the user say: the item's transcript and its message's text."""
    item.wire["content"][0]["transcript"] = transcript
    text = ContentPart(type="text", text=transcript)
    parts = [p for p in item.message.content if p.type != "text"]
    item.message = item.message.model_copy(update={"content": [*parts, text]})


def from_client(item: ItemIn, audio_url: str | None = None) -> Item:
    """An item a client created; `audio_url` is where its `input_audio` part was saved."""
    if isinstance(item, FunctionCallOutputItem):
        wire = _base("function_call_output", item.id) | {
            "call_id": item.call_id,
            "output": item.output,
        }
        message = Message(
            role="tool",
            tool_call_id=item.call_id,
            content=[ContentPart(type="text", text=item.output)],
        )
        return Item(wire["id"], wire, message)
    if isinstance(item, FunctionCallItem):
        call_id = item.call_id or new_id("call_")
        wire = _base("function_call", item.id) | {
            "call_id": call_id,
            "name": item.name,
            "arguments": item.arguments,
        }
        call = ToolCall(id=call_id, name=item.name, arguments=item.arguments)
        return Item(wire["id"], wire, Message(role="assistant", tool_calls=[call]))
    return _message(item, audio_url)


def _message(item: MessageItem, audio_url: str | None) -> Item:
    wire_parts: list[dict[str, Any]] = []
    parts: list[ContentPart] = []
    for index, part in enumerate(item.content):
        if part.type in ("input_text", "text", "output_text"):
            kind = "output_text" if item.role == "assistant" else "input_text"
            wire_parts.append({"type": kind, "text": part.text or ""})
            parts.append(ContentPart(type="text", text=part.text or ""))
        elif part.type in ("input_audio", "output_audio"):
            wire_parts.append({"type": part.type, "transcript": part.transcript})
            if part.type == "input_audio" and audio_url is not None:
                parts.append(ContentPart(type="audio", url=audio_url, media_type="audio/wav"))
            if part.transcript:
                parts.append(ContentPart(type="text", text=part.transcript))
        elif part.type == "input_image":
            if not part.image_url:
                raise EventError(
                    "An input_image part needs an `image_url` (a data: URL).",
                    code="missing_required_parameter",
                    param=f"item.content.{index}.image_url",
                )
            wire_parts.append({"type": "input_image", "image_url": part.image_url})
            parts.append(ContentPart(type="image", url=part.image_url))
    wire = _base("message", item.id) | {"role": item.role, "content": wire_parts}
    return Item(wire["id"], wire, Message(role=item.role, content=parts))


def assistant_item(modality: str) -> Item:
    """The assistant's answer as it starts: empty, in progress."""
    wire = _base("message", None) | {"role": "assistant", "content": [], "status": "in_progress"}
    return Item(wire["id"], wire, Message(role="assistant"))


def function_call_item(call: ToolCall) -> Item:
    wire = _base("function_call", None) | {
        "call_id": call.id,
        "name": call.name,
        "arguments": call.arguments,
    }
    return Item(wire["id"], wire, Message(role="assistant", tool_calls=[call]))
