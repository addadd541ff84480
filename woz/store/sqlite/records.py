"""Records: one row per task, the whole record as JSON beside indexed columns.

The body is written once, when the task ends. Its delivery (`status` and
`delivered_at`) is kept in columns and laid over the body when read, so the
busiest write of all, marking an answer delivered, touches two small fields;
so are a researcher's later `wizard_error` flag and the count of `replays`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import datetime

from woz.models.record import Record, RecordStatus
from woz.store.rows import RECORD_COLUMNS, record_of
from woz.store.sqlite.database import SQLiteDatabase, Write
from woz.store.sqlite.participants import is_withdrawn


class RecordTables(SQLiteDatabase):
    async def commit_record(self, record: Record) -> None:
        body = record.model_dump_json()
        delivered_at = record.timings.delivered_at

        def upsert(db: sqlite3.Connection) -> None:
            if is_withdrawn(db, record.study_id, record.participant):
                return  # withdrawn while the task was in flight: nothing of it is kept
            db.execute(
                "INSERT OR REPLACE INTO records (id, task_id, study_id, persona, conversation_id,"
                " participant, operator, produced_by, status, received_at, delivered_at, body)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    record.id,
                    record.task_id,
                    record.study_id,
                    record.persona,
                    record.conversation_id,
                    record.participant,
                    record.operator,
                    record.produced_by,
                    record.status,
                    record.timings.received_at.isoformat(),
                    delivered_at.isoformat() if delivered_at else None,
                    body,
                ),
            )

        await self._write(upsert)

    async def set_record_status(
        self, record_id: str, status: RecordStatus, delivered_at: datetime | None = None
    ) -> None:
        await self._write(_status_update(record_id, status, delivered_at))

    async def note_record_status(
        self, record_id: str, status: RecordStatus, delivered_at: datetime | None = None
    ) -> None:
        await self._write_later(_status_update(record_id, status, delivered_at))

    async def note_record_replayed(self, record_id: str) -> None:
        def count(db: sqlite3.Connection) -> None:
            db.execute("UPDATE records SET replays = replays + 1 WHERE id = ?", (record_id,))

        await self._write_later(count)

    async def set_wizard_error(self, study_id: str, record_id: str, note: str | None) -> bool:
        changed = await self._write_changes(
            "UPDATE records SET wizard_error = ? WHERE id = ? AND study_id = ?",
            (note, record_id, study_id),
        )
        return changed > 0

    async def get_record(self, record_id: str) -> Record | None:
        await self._settle_writes()  # delivery marks wait for the next group commit
        rows = await self._read(f"SELECT {RECORD_COLUMNS} FROM records WHERE id = ?", (record_id,))
        return record_of(rows[0]) if rows else None

    async def list_records(
        self, study_id: str, participant: str | None = None, operator: str | None = None
    ) -> Sequence[Record]:
        await self._settle_writes()
        where, params = "study_id = ?", [study_id]
        if participant is not None:
            where, params = where + " AND participant = ?", [*params, participant]
        if operator is not None:
            where, params = where + " AND operator = ?", [*params, operator]
        rows = await self._read(
            f"SELECT {RECORD_COLUMNS} FROM records WHERE {where} ORDER BY received_at",
            tuple(params),
        )
        return [record_of(row) for row in rows]

    async def recent_records(self, study_id: str, limit: int) -> Sequence[Record]:
        await self._settle_writes()
        rows = await self._read(
            f"SELECT {RECORD_COLUMNS} FROM records WHERE study_id = ?"
            " ORDER BY received_at DESC LIMIT ?",
            (study_id, limit),
        )
        return [record_of(row) for row in rows]


def _status_update(record_id: str, status: RecordStatus, delivered_at: datetime | None) -> Write:
    delivered = delivered_at.isoformat() if delivered_at else None

    def update(db: sqlite3.Connection) -> None:
        db.execute(
            "UPDATE records SET status = ?, delivered_at = ? WHERE id = ?",
            (status, delivered, record_id),
        )

    return update
