"""Records: one row per task, the whole record as JSON beside indexed columns."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import datetime

from woz.models.record import Record, RecordStatus
from woz.store.database import SQLiteDatabase
from woz.store.sqlite_participants import is_withdrawn


class RecordTables(SQLiteDatabase):
    async def commit_record(self, record: Record) -> None:
        body = record.model_dump_json()

        def upsert(db: sqlite3.Connection) -> None:
            if is_withdrawn(db, record.study_id, record.participant):
                return  # withdrawn while the task was in flight: nothing of it is kept
            db.execute(
                "INSERT OR REPLACE INTO records (id, task_id, study_id, persona, conversation_id,"
                " participant, operator, produced_by, status, received_at, body)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
                    body,
                ),
            )

        await self._write(upsert)

    async def set_record_status(
        self, record_id: str, status: RecordStatus, delivered_at: datetime | None = None
    ) -> None:
        delivered = delivered_at.isoformat() if delivered_at else None

        def update(db: sqlite3.Connection) -> None:
            db.execute(
                "UPDATE records SET status = ?, body = json_set(body, '$.status', ?,"
                " '$.timings.delivered_at', ?) WHERE id = ?",
                (status, status, delivered, record_id),
            )

        await self._write(update)

    async def get_record(self, record_id: str) -> Record | None:
        rows = await self._read("SELECT body FROM records WHERE id = ?", (record_id,))
        return Record.model_validate_json(rows[0]["body"]) if rows else None

    async def list_records(self, study_id: str, participant: str | None = None) -> Sequence[Record]:
        if participant is None:
            rows = await self._read(
                "SELECT body FROM records WHERE study_id = ? ORDER BY received_at", (study_id,)
            )
        else:
            rows = await self._read(
                "SELECT body FROM records WHERE study_id = ? AND participant = ?"
                " ORDER BY received_at",
                (study_id, participant),
            )
        return [Record.model_validate_json(row["body"]) for row in rows]
