"""Rows to models, for every backend: a row is a mapping of column to value.

Timestamps arrive as ISO 8601 text (SQLite) or as datetimes (PostgreSQL), and JSON
columns as text in both; these functions take either, so both backends read a row
the same way.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Protocol

from woz.models.keys import KeyInfo
from woz.models.questionnaire import Feedback, QuestionnaireAnswers
from woz.models.record import Record, RecordStatus
from woz.models.research import (
    AuditEntry,
    ConsentRecord,
    DisclosureEvent,
    OperatorTraining,
    PageSession,
    PresenceEvent,
    Tombstone,
)


class Row(Protocol):
    """A row by column name: `sqlite3.Row` and psycopg's dict rows both are."""

    def __getitem__(self, key: str, /) -> Any: ...


def of_study(
    select: str, study_id: str, participant: str | None, *, mark: str, order: str = ""
) -> tuple[str, tuple[str, ...]]:
    """`select` narrowed to one study's rows, and to one participant's if given, then ordered:
    the query and its parameters, with `mark` the backend's placeholder (`?` or `%s`)."""
    sql = f"{select} WHERE study_id = {mark}"
    params: tuple[str, ...] = (study_id,)
    if participant is not None:
        sql, params = f"{sql} AND participant = {mark}", (study_id, participant)
    return (f"{sql} ORDER BY {order}" if order else sql), params


def when(value: str | datetime | None) -> datetime | None:
    """A stored timestamp as an aware datetime (None stays None)."""
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(value)


def stamp(value: str | datetime) -> datetime:
    """A stored timestamp that is never missing."""
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


RECORD_COLUMNS = "body, status, delivered_at, wizard_error, replays"
"""The columns `record_of` reads: the body and what is kept beside it."""


def record_of(row: Row) -> Record:
    """The record of a row: its body, with the columns kept beside it laid over it."""
    record = Record.model_validate_json(row["body"])
    record.status = RecordStatus(row["status"])
    record.timings.delivered_at = when(row["delivered_at"])
    record.wizard_error = row["wizard_error"]
    record.replays = row["replays"]
    return record


def key_of(row: Row) -> KeyInfo:
    return KeyInfo(
        id=row["id"],
        study_id=row["study_id"],
        role=row["role"],
        name=row["name"],
        created_at=stamp(row["created_at"]),
        revoked_at=when(row["revoked_at"]),
    )


def consent_of(row: Row, subject_column: str = "subject") -> ConsentRecord:
    """A consent, its subject read from `subject_column` (`operator` for operators')."""
    return ConsentRecord(
        id=row["id"],
        study_id=row["study_id"],
        subject=row[subject_column],
        version=row["version"],
        text_sha256=row["text_sha256"],
        method=row["method"],
        scopes=json.loads(row["scopes"]),
        granted_at=stamp(row["granted_at"]),
    )


def disclosure_of(row: Row) -> DisclosureEvent:
    return DisclosureEvent(
        id=row["id"],
        study_id=row["study_id"],
        subject=row["subject"],
        kind=row["kind"],
        at=stamp(row["at"]),
        text_sha256=row["text_sha256"],
        details=json.loads(row["details"]),
    )


def tombstone_row(row: Row) -> Tombstone:
    return Tombstone(
        study_id=row["study_id"],
        subject=row["subject"],
        withdrawn_at=stamp(row["withdrawn_at"]),
        records_deleted=row["records_deleted"],
    )


def presence_of(row: Row) -> PresenceEvent:
    return PresenceEvent(
        study_id=row["study_id"], operator=row["operator"], state=row["state"], at=stamp(row["at"])
    )


def training_of(row: Row) -> OperatorTraining:
    return OperatorTraining(
        id=row["id"],
        study_id=row["study_id"],
        operator=row["operator"],
        trained_at=stamp(row["trained_at"]),
        note=row["note"],
    )


def audit_entry_of(row: Row) -> AuditEntry:
    return AuditEntry(
        study_id=row["study_id"],
        seq=row["seq"],
        at=stamp(row["at"]),
        actor=row["actor"],
        action=row["action"],
        subject=row["subject"],
        details=json.loads(row["details"]),
        prev_hash=row["prev_hash"],
        hash=row["hash"],
    )


def page_session_of(row: Row) -> PageSession:
    """A participant's page session; pydantic reads either backend's timestamps."""
    return PageSession.model_validate({name: row[name] for name in PageSession.model_fields})


def answers_of(row: Row) -> QuestionnaireAnswers:
    return QuestionnaireAnswers(
        study_id=row["study_id"],
        participant=row["participant"],
        questionnaire=row["questionnaire"],
        when=row["moment"],
        arm=row["arm"],
        answers=json.loads(row["answers"]),
        submitted_at=stamp(row["submitted_at"]),
    )


def feedback_of(row: Row) -> Feedback:
    return Feedback(
        study_id=row["study_id"],
        record_id=row["record_id"],
        participant=row["participant"],
        rating=row["rating"],
        comment=row["comment"],
        at=stamp(row["at"]),
    )
