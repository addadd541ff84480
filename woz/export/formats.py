"""The dataset formats: one writer each, all carrying every provenance field.

- `openai-chat`: JSONL for fine-tuning, one conversation per record:
  `{"messages": [...], "tools"?: [...], "woz": {provenance}}`; the record's
  answer is the final assistant message. Unanswered records have no example.
- `preference`: JSONL in TRL's conversational preference shape,
  `{"prompt": [...], "chosen": [answer], "rejected": [model draft], "woz": {...}}`,
  for records whose human answer replaced a model draft.
- `hf`: JSONL of flat columns that `datasets.load_dataset("json", ...)` reads:
  `messages` (role, content, tool_calls as JSON text, tool_call_id), `answer`,
  `answer_tool_calls`, `audio` (a voice turn's recording, where kept: a WAV in
  `audio/` beside the data, an Audio feature), `input_transcript` (the wizard's
  transcript of it), then the provenance fields as columns of their own.
- `csv`: transcripts, one row per turn. A record contributes the turns that are
  new since the previous record of its conversation (or all of them), then its
  answer (`is_answer` = true); every row carries its record's provenance.

Each writer returns the files it wrote with their row counts, and the records
it had to leave out because the format has no place for them.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from woz.export.rows import (
    PROVENANCE_FIELDS,
    answer_message,
    chat_message,
    chat_tools,
    check_row,
    flat_turn,
    provenance,
)
from woz.export.selection import Selected
from woz.models.record import Record
from woz.models.task import Message

Written = tuple[dict[str, int], Counter[str], list[Record]]
"""Rows per file written, records left out by reason, and the records written."""


def _jsonl(path: Path, rows: Sequence[dict[str, Any]]) -> None:
    with path.open("w", encoding="utf-8", newline="\n") as out:
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False, separators=(",", ":")) + "\n")


def _woz(selected: Selected) -> dict[str, Any]:
    fields = provenance(selected.record, selected.flags)
    check_row(fields)
    return fields


def write_openai_chat(rows: Sequence[Selected], out: Path) -> Written:
    skipped: Counter[str] = Counter()
    lines, written = [], []
    for selected in rows:
        answer = answer_message(selected.record)
        if answer is None:
            skipped["no_answer"] += 1
            continue
        written.append(selected.record)
        line: dict[str, Any] = {
            "messages": [chat_message(m) for m in selected.record.messages] + [answer]
        }
        if selected.record.tools:
            line["tools"] = chat_tools(selected.record.tools)
        line["woz"] = _woz(selected)
        lines.append(line)
    _jsonl(out / "data.jsonl", lines)
    return {"data.jsonl": len(lines)}, skipped, written


def write_preference(rows: Sequence[Selected], out: Path) -> Written:
    skipped: Counter[str] = Counter()
    lines, written = [], []
    for selected in rows:
        record = selected.record
        answer = answer_message(record)
        if answer is None:
            skipped["no_answer"] += 1
            continue
        if not record.draft or record.draft == (record.answer.content if record.answer else None):
            skipped["no_replaced_draft"] += 1
            continue
        written.append(record)
        lines.append(
            {
                "prompt": [chat_message(m) for m in record.messages],
                "chosen": [answer],
                "rejected": [{"role": "assistant", "content": record.draft}],
                "woz": _woz(selected),
            }
        )
    _jsonl(out / "data.jsonl", lines)
    return {"data.jsonl": len(lines)}, skipped, written


AUDIO_FOLDER = "audio"


def audio_path(record: Record) -> str | None:
    """Where an hf export puts the record's kept input audio, relative to the data."""
    voice = record.voice
    if voice is None or not voice.audio_kept or voice.input_audio is None:
        return None
    return f"{AUDIO_FOLDER}/{voice.input_audio}"


def _voice(record: Record) -> dict[str, Any] | None:
    """A voice turn's facts: what spoke the answer, its timings, any interruption."""
    if record.voice is None:
        return None
    return record.voice.model_dump(mode="json", exclude={"input_transcript", "input_audio"})


def write_hf(rows: Sequence[Selected], out: Path) -> Written:
    lines = []
    for selected in rows:
        record = selected.record
        answer = record.answer
        calls = (
            [{"name": c.name, "arguments": c.arguments} for c in answer.tool_calls]
            if answer
            else []
        )
        line: dict[str, Any] = {
            "messages": [flat_turn(m) for m in record.messages],
            "answer": answer.content if answer and answer.content else "",
            "answer_tool_calls": json.dumps(calls) if calls else "",
            # A spoken turn's recording, kept with consent: a file beside the data
            # (`audio/<id>.wav`), which `datasets` reads as an Audio feature.
            "audio": audio_path(record),
            "input_transcript": record.voice.input_transcript if record.voice else None,
            "voice": _voice(record),
            **_woz(selected),
        }
        lines.append(line)
    _jsonl(out / "data.jsonl", lines)
    return {"data.jsonl": len(lines)}, Counter(), [s.record for s in rows]


CSV_TURN_FIELDS = ("turn", "role", "content", "tool_calls", "tool_call_id", "is_answer")


def _new_turns(record: Record, previous: list[Message] | None) -> list[Message]:
    """The record's turns after those of the previous record of its conversation."""
    if previous is not None and record.messages[: len(previous)] == previous:
        return record.messages[len(previous) :]
    return record.messages


def write_csv(rows: Sequence[Selected], out: Path) -> Written:
    history: dict[str, list[Message]] = {}
    written = 0
    with (out / "transcripts.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=[*CSV_TURN_FIELDS, *PROVENANCE_FIELDS])
        writer.writeheader()
        ordered = sorted(rows, key=lambda s: s.record.timings.received_at)
        for selected in ordered:
            record = selected.record
            fields = _woz(selected)
            fields["permitted_uses"] = " ".join(fields["permitted_uses"])
            fields["redacted"] = " ".join(fields["redacted"])
            fields["flags"] = " ".join(fields["flags"])
            turns = [(m, False) for m in _new_turns(record, history.get(record.conversation_id))]
            if record.answer is not None:
                turns.append((record.answer.as_message(), True))
            start = len(record.messages) - len(turns) + (1 if record.answer else 0)
            for offset, (message, is_answer) in enumerate(turns):
                writer.writerow(
                    {"turn": start + offset, **flat_turn(message), "is_answer": is_answer} | fields
                )
                written += 1
            history[record.conversation_id] = [
                *record.messages,
                *([record.answer.as_message()] if record.answer else []),
            ]
    return {"transcripts.csv": written}, Counter(), [s.record for s in rows]


WRITERS: dict[str, Callable[[Sequence[Selected], Path], Written]] = {
    "openai-chat": write_openai_chat,
    "preference": write_preference,
    "hf": write_hf,
    "csv": write_csv,
}
