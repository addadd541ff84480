"""Seeding a live woz's store with answered tasks, the way the dispatcher records them.

Exports, withdrawal and the labor ledger are about many participants and
explicit times; answering a hundred requests over the wire would test the
dispatcher again, so these tests build tasks and hand them to the server's own
recorder instead, with fixed timestamps.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.conftest import Woz
from woz.models.record import RecordStatus, Timings
from woz.models.task import Answer, ContentPart, Message, ProducedBy, Task

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def user(text: str) -> Message:
    return Message(role="user", content=[ContentPart(type="text", text=text)])


async def answer_task(
    woz: Woz,
    external_id: str | None,
    text: str,
    reply: str,
    *,
    at: datetime = T0,
    operator: str | None = "key_olive",
    draft: str | None = None,
    produced_by: ProducedBy = ProducedBy.HUMAN,
    consent_id: str | None = None,
) -> str:
    """Record one delivered answer for `external_id`; returns the record id."""
    participant = woz.runtime.participants.pseudonym_of(external_id) if external_id else None
    if participant is not None:
        await woz.store.register_participant(woz.study.id, participant, at)
    task = Task(
        study_id=woz.study.id,
        persona="wizard",
        api="openai.chat_completions",
        conversation_id=f"conv_{external_id}_{at.timestamp()}",
        participant=participant,
        messages=[
            Message(role="system", content=[ContentPart(type="text", text="Be kind.")]),
            user(text),
        ],
        received_at=at,
        request_key=f"{external_id}:{at.isoformat()}:{text}",
        consent_id=consent_id,
    )
    answer = Answer(
        content=reply,
        produced_by=produced_by,
        draft=draft,
        draft_source="upstream:test-model" if draft else None,
    )
    timings = Timings(
        received_at=at,
        assigned_at=at + timedelta(seconds=1),
        first_keystroke_at=at + timedelta(seconds=2),
        answered_at=at + timedelta(seconds=20),
    )
    record_id = await woz.runtime.recorder.answered(task, operator, answer, timings)
    # As the recorder's background mark does, but awaited: the caller reads next.
    await woz.store.note_record_status(
        record_id, RecordStatus.DELIVERED, at + timedelta(seconds=21)
    )
    return record_id
