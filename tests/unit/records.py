"""A record as the recorder would write it, for tests of what is computed from records."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from woz.models.record import Record, RecordStatus, Timings
from woz.models.task import Answer, ProducedBy

T0 = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


def make_record(participant: str | None = "p_1", **changes: Any) -> Record:
    """A delivered human answer by operator `op_1`; `changes` replace any field."""
    record = Record(
        id=f"rec_{participant}",
        task_id=f"task_{participant}",
        study_id="s",
        persona="p",
        api="openai.chat_completions",
        conversation_id="c",
        participant=participant,
        operator="op_1",
        messages=[],
        answer=Answer(content="hello"),
        produced_by=ProducedBy.HUMAN,
        presented_as="ai",
        deception="none",
        permitted_uses=["in_study_analysis"],
        license="CC-BY-4.0",
        timings=Timings(received_at=T0),
        status=RecordStatus.DELIVERED,
    )
    return record.model_copy(update=changes)
