"""Records in PostgreSQL: the whole record as JSON text beside indexed columns.

As in SQLite, delivery (`status`, `delivered_at`), `wizard_error` and `replays`
are columns laid over the body when read. A commit of a participant's record
holds that participant's advisory lock (shared), and the erasure holds it alone,
so a record in flight during a withdrawal is either erased or never written.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from woz.models.pseudonyms import tombstone_of
from woz.models.record import Record, RecordStatus
from woz.store.postgres.database import PARTICIPANT_LOCK, Connection, PostgresDatabase, lock
from woz.store.rows import RECORD_COLUMNS, of_study, record_of


async def withdrawn(db: Connection, study_id: str, participant: str | None) -> bool:
    """Inside a transaction: has `participant` withdrawn? Takes their lock (shared) first,
    so that an erasure running now finishes before the answer."""
    if participant is None:
        return False
    subject = tombstone_of(participant)
    await lock(db, PARTICIPANT_LOCK, study_id, subject, shared=True)
    cursor = await db.execute(
        "SELECT 1 FROM tombstones WHERE study_id = %s AND subject = %s", (study_id, subject)
    )
    return await cursor.fetchone() is not None


class PgRecordTables(PostgresDatabase):
    async def commit_record(self, record: Record) -> None:
        delivered_at = record.timings.delivered_at
        async with self._transaction() as db:
            if await withdrawn(db, record.study_id, record.participant):
                return
            await db.execute(
                "INSERT INTO records (id, task_id, study_id, persona, conversation_id,"
                " participant, operator, produced_by, status, received_at, delivered_at, body)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
                " ON CONFLICT (id) DO UPDATE SET task_id = excluded.task_id,"
                " study_id = excluded.study_id, persona = excluded.persona,"
                " conversation_id = excluded.conversation_id,"
                " participant = excluded.participant, operator = excluded.operator,"
                " produced_by = excluded.produced_by, status = excluded.status,"
                " received_at = excluded.received_at, delivered_at = excluded.delivered_at,"
                " wizard_error = NULL, replays = 0, body = excluded.body, seq = DEFAULT",
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
                    record.timings.received_at,
                    delivered_at,
                    record.model_dump_json(),
                ),
            )

    async def set_record_status(
        self, record_id: str, status: RecordStatus, delivered_at: datetime | None = None
    ) -> None:
        await self._execute(
            "UPDATE records SET status = %s, delivered_at = %s WHERE id = %s",
            (status, delivered_at, record_id),
        )

    async def note_record_status(
        self, record_id: str, status: RecordStatus, delivered_at: datetime | None = None
    ) -> None:
        await self._mark(
            "UPDATE records SET status = %s, delivered_at = %s WHERE id = %s",
            (status, delivered_at, record_id),
        )

    async def note_record_replayed(self, record_id: str) -> None:
        await self._mark("UPDATE records SET replays = replays + 1 WHERE id = %s", (record_id,))

    async def set_wizard_error(self, study_id: str, record_id: str, note: str | None) -> bool:
        changed = await self._execute(
            "UPDATE records SET wizard_error = %s WHERE id = %s AND study_id = %s",
            (note, record_id, study_id),
        )
        return changed > 0

    async def get_record(self, record_id: str) -> Record | None:
        await self._settle_marks()
        rows = await self._rows(f"SELECT {RECORD_COLUMNS} FROM records WHERE id = %s", (record_id,))
        return record_of(rows[0]) if rows else None

    async def list_records(
        self, study_id: str, participant: str | None = None, operator: str | None = None
    ) -> Sequence[Record]:
        await self._settle_marks()
        where, params = "study_id = %s", [study_id]
        if participant is not None:
            where, params = where + " AND participant = %s", [*params, participant]
        if operator is not None:
            where, params = where + " AND operator = %s", [*params, operator]
        rows = await self._rows(
            f"SELECT {RECORD_COLUMNS} FROM records WHERE {where} ORDER BY received_at, seq", params
        )
        return [record_of(row) for row in rows]

    async def recent_records(self, study_id: str, limit: int) -> Sequence[Record]:
        await self._settle_marks()
        rows = await self._rows(
            f"SELECT {RECORD_COLUMNS} FROM records WHERE study_id = %s"
            " ORDER BY received_at DESC, seq DESC LIMIT %s",
            (study_id, limit),
        )
        return [record_of(row) for row in rows]

    async def last_task_at(self, study_id: str, participant: str | None = None) -> datetime | None:
        sql, params = of_study(
            "SELECT MAX(received_at) AS last FROM records", study_id, participant, mark="%s"
        )
        rows = await self._rows(sql, params)
        last: datetime | None = rows[0]["last"]
        return last
