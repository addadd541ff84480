"""What every exported row carries: the record's provenance and disclosure, and its turns.

`provenance(record)` is the one place that decides the provenance and
disclosure fields of DESIGN 4.5 as exported; every format writes all of them,
under the same names, either as columns of its own (`hf`, `csv`) or in a `woz`
object (`openai-chat`, `preference`). `check_row` makes sure no row leaves
without them. Operators appear only by their per-study pseudonym; nothing here
can name an operator's key or display name, because records never hold them.
"""

from __future__ import annotations

import json
from typing import Any

from woz.models.record import Record
from woz.models.task import ContentPart, Message, ToolCall, ToolSpec

PROVENANCE_FIELDS = (
    "record_id",
    "study_id",
    "persona",
    "api",
    "conversation_id",
    "produced_by",
    "synthetic",
    "model",
    "draft",
    "draft_source",
    "edit_ratio",
    "mode",
    "arm",
    "operator",
    "participant",
    "consent_id",
    "presented_as",
    "deception",
    "debriefed",
    "debriefed_at",
    "withdrawn",
    "permitted_uses",
    "license",
    "redacted",
    "received_at",
    "assigned_at",
    "first_keystroke_at",
    "answered_at",
    "delivered_at",
    "attempts",
    "replays",
    "status",
    "failure",
    "wizard_error",
    "flags",
)


class MissingProvenance(Exception):
    """A row about to be written without one of its provenance fields."""


def _time(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def provenance(record: Record, flags: list[str] | None = None) -> dict[str, Any]:
    """The record's provenance and disclosure fields, flat, JSON-ready, in a fixed order."""
    t = record.timings
    return {
        "record_id": record.id,
        "study_id": record.study_id,
        "persona": record.persona,
        "api": record.api,
        "conversation_id": record.conversation_id,
        "produced_by": record.produced_by.value if record.produced_by else None,
        "synthetic": record.synthetic,
        "model": record.model,
        "draft": record.draft,
        "draft_source": record.draft_source,
        "edit_ratio": record.edit_ratio,
        "mode": record.mode,
        "arm": record.arm,
        "operator": record.operator,
        "participant": record.participant,
        "consent_id": record.consent_id,
        "presented_as": record.presented_as,
        "deception": record.deception,
        "debriefed": record.debriefed,
        "debriefed_at": _time(record.debriefed_at),
        "withdrawn": record.withdrawn,
        "permitted_uses": list(record.permitted_uses),
        "license": record.license,
        "redacted": sorted(record.redactions),
        "received_at": _time(t.received_at),
        "assigned_at": _time(t.assigned_at),
        "first_keystroke_at": _time(t.first_keystroke_at),
        "answered_at": _time(t.answered_at),
        "delivered_at": _time(t.delivered_at),
        "attempts": t.attempts,
        "replays": record.replays,
        "status": record.status.value,
        "failure": record.failure,
        "wizard_error": record.wizard_error,
        "flags": list(flags or []),
    }


def check_row(fields: dict[str, Any]) -> None:
    """Refuse a row that lacks a provenance field (rule 3: never drop or rename one)."""
    missing = [name for name in PROVENANCE_FIELDS if name not in fields]
    if missing:
        raise MissingProvenance(f"a row lacks the provenance fields {missing}")


# -- turns in OpenAI's chat shape, which fine-tuning and TRL both read -----------


def _part(part: ContentPart) -> dict[str, Any]:
    if part.type == "text":
        return {"type": "text", "text": part.text or ""}
    if part.type == "image" and part.url:
        return {"type": "image_url", "image_url": {"url": part.url}}
    return {"type": "text", "text": f"[{part.type} omitted]"}


def _call(call: ToolCall) -> dict[str, Any]:
    return {
        "id": call.id,
        "type": "function",
        "function": {"name": call.name, "arguments": call.arguments},
    }


def chat_message(message: Message) -> dict[str, Any]:
    """One normalised turn as an OpenAI chat message."""
    out: dict[str, Any] = {"role": message.role}
    parts = message.content
    if all(part.type == "text" for part in parts):
        out["content"] = message.text() if parts or message.role != "assistant" else None
    else:
        out["content"] = [_part(part) for part in parts]
    if message.tool_calls:
        out["tool_calls"] = [_call(call) for call in message.tool_calls]
    if message.tool_call_id:
        out["tool_call_id"] = message.tool_call_id
    if message.name and message.role != "tool":
        out["name"] = message.name
    return out


def answer_message(record: Record) -> dict[str, Any] | None:
    """The record's answer as the final assistant message, or None if unanswered."""
    if record.answer is None:
        return None
    return chat_message(record.answer.as_message())


def chat_tools(tools: list[ToolSpec]) -> list[dict[str, Any]]:
    return [
        {
            "type": "function",
            "function": {
                "name": tool.name,
                **({"description": tool.description} if tool.description else {}),
                "parameters": tool.parameters or {"type": "object", "properties": {}},
            },
        }
        for tool in tools
    ]


def flat_turn(message: Message) -> dict[str, Any]:
    """A turn with plain-string fields only, for columnar formats (`hf`, `csv`)."""
    text = "".join(
        (part.text or "") if part.type == "text" else f"[{part.type}]" for part in message.content
    )
    calls = [{"name": c.name, "arguments": c.arguments} for c in message.tool_calls]
    return {
        "role": message.role,
        "content": text,
        "tool_calls": json.dumps(calls) if calls else "",
        "tool_call_id": message.tool_call_id or "",
    }
