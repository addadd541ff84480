"""Participants, their consents and disclosure events, and withdrawal with tombstones.

Consents and disclosure events are keyed by the participant's subject hash and
are append-only (triggers refuse updates and deletes). The registry row maps
subject to pseudonym while the participant takes part; withdrawal erases the
pseudonym from it and from every table that holds one, in one transaction.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from datetime import datetime
from typing import Literal

from woz.models.pseudonyms import tombstone_of
from woz.models.research import ConsentRecord, DisclosureEvent, Tombstone
from woz.store.rows import consent_of, disclosure_of, tombstone_row
from woz.store.sqlite.database import SQLiteDatabase


def insert_consent(
    db: sqlite3.Connection,
    table: Literal["consents", "operator_consents"],
    subject_column: Literal["subject", "operator"],
    consent: ConsentRecord,
) -> None:
    """Append `consent` to a consents table, its subject in `subject_column`."""
    db.execute(
        f"INSERT INTO {table} (id, study_id, {subject_column}, version, text_sha256, method,"
        " scopes, granted_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            consent.id,
            consent.study_id,
            consent.subject,
            consent.version,
            consent.text_sha256,
            consent.method,
            json.dumps(consent.scopes),
            consent.granted_at.isoformat(),
        ),
    )


class ParticipantTables(SQLiteDatabase):
    async def register_participant(self, study_id: str, participant: str, at: datetime) -> None:
        subject = tombstone_of(participant)

        def insert(db: sqlite3.Connection) -> None:
            # A withdrawn participant keeps their row (without pseudonym): never re-registered.
            db.execute(
                "INSERT OR IGNORE INTO participants (study_id, subject, pseudonym, first_seen_at)"
                " VALUES (?, ?, ?, ?)",
                (study_id, subject, participant, at.isoformat()),
            )

        await self._write(insert)

    async def add_consent(self, consent: ConsentRecord) -> None:
        await self._write(lambda db: insert_consent(db, "consents", "subject", consent))

    async def list_consents(
        self, study_id: str, subject: str | None = None
    ) -> Sequence[ConsentRecord]:
        rows = await self._subject_rows("consents", study_id, subject, "granted_at, id")
        return [consent_of(row) for row in rows]

    async def add_disclosure(self, event: DisclosureEvent) -> None:
        def insert(db: sqlite3.Connection) -> None:
            db.execute(
                "INSERT INTO disclosures (id, study_id, subject, kind, at, text_sha256, details)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    event.id,
                    event.study_id,
                    event.subject,
                    event.kind,
                    event.at.isoformat(),
                    event.text_sha256,
                    json.dumps(event.details),
                ),
            )

        await self._write(insert)

    async def list_disclosures(
        self, study_id: str, subject: str | None = None
    ) -> Sequence[DisclosureEvent]:
        rows = await self._subject_rows("disclosures", study_id, subject, "seq")
        return [disclosure_of(row) for row in rows]

    async def _subject_rows(
        self, table: str, study_id: str, subject: str | None, order: str
    ) -> list[sqlite3.Row]:
        """The study's rows of `table` (a constant of this module), for one subject or all."""
        if subject is None:
            return await self._read(
                f"SELECT * FROM {table} WHERE study_id = ? ORDER BY {order}", (study_id,)
            )
        return await self._read(
            f"SELECT * FROM {table} WHERE study_id = ? AND subject = ? ORDER BY {order}",
            (study_id, subject),
        )

    async def erase_participant(self, study_id: str, participant: str, at: datetime) -> Tombstone:
        """Delete the participant's content everywhere and leave a tombstone, atomically.

        Records, stored responses, questionnaire answers and feedback are deleted; the
        arm assignment is re-keyed to the subject so that balanced assignment keeps its
        counts. Idempotent:
        a second call returns the first tombstone.
        """
        subject = tombstone_of(participant)

        def erase(db: sqlite3.Connection) -> None:
            # Deleted rows are overwritten with zeros, not left in free pages for a
            # forensic reader (the connection keeps the setting; deletes are rare).
            db.execute("PRAGMA secure_delete = ON")
            if db.execute(
                "SELECT 1 FROM tombstones WHERE study_id = ? AND subject = ?", (study_id, subject)
            ).fetchone():
                return
            deleted = db.execute(
                "DELETE FROM records WHERE study_id = ? AND participant = ?",
                (study_id, participant),
            ).rowcount
            for table in ("responses", "questionnaire_answers", "feedback", "answer_reads"):
                db.execute(
                    f"DELETE FROM {table} WHERE study_id = ? AND participant = ?",
                    (study_id, participant),
                )
            db.execute(
                "UPDATE arm_assignments SET participant = ? WHERE study_id = ? AND participant = ?",
                (subject, study_id, participant),
            )
            db.execute(  # the session stays, payable, without the pseudonym
                "UPDATE page_sessions SET participant = NULL WHERE study_id = ? AND subject = ?",
                (study_id, subject),
            )
            db.execute(
                "INSERT INTO participants (study_id, subject, pseudonym, first_seen_at)"
                " VALUES (?, ?, NULL, ?) ON CONFLICT (study_id, subject) DO UPDATE"
                " SET pseudonym = NULL",
                (study_id, subject, at.isoformat()),
            )
            db.execute(
                "INSERT INTO tombstones (study_id, subject, withdrawn_at, records_deleted)"
                " VALUES (?, ?, ?, ?)",
                (study_id, subject, at.isoformat(), deleted),
            )

        await self._write(erase)
        # Move the zeroed pages into the database file and empty the write-ahead log,
        # where the old pages would otherwise linger. Best-effort: a long reader in
        # another process can hold the log; the next checkpoint then finishes the job.
        await self._read("PRAGMA wal_checkpoint(TRUNCATE)")
        found = await self.tombstone(study_id, subject)
        assert found is not None
        return found

    async def tombstone(self, study_id: str, subject: str) -> Tombstone | None:
        rows = await self._read(
            "SELECT * FROM tombstones WHERE study_id = ? AND subject = ?", (study_id, subject)
        )
        return tombstone_row(rows[0]) if rows else None

    async def list_tombstones(self, study_id: str) -> Sequence[Tombstone]:
        rows = await self._read(
            "SELECT * FROM tombstones WHERE study_id = ? ORDER BY withdrawn_at, subject",
            (study_id,),
        )
        return [tombstone_row(row) for row in rows]

    async def last_task_at(self, study_id: str, participant: str | None = None) -> datetime | None:
        """When the participant's (or, with None, the study's) last task arrived."""
        sql = "SELECT MAX(received_at) AS last FROM records WHERE study_id = ?"
        params: tuple[str, ...] = (study_id,)
        if participant is not None:
            sql, params = sql + " AND participant = ?", (study_id, participant)
        rows = await self._read(sql, params)
        last = rows[0]["last"]
        return datetime.fromisoformat(last) if last else None

    async def participant_count(self, study_id: str) -> int:
        rows = await self._read(
            "SELECT COUNT(*) AS n FROM participants WHERE study_id = ? AND pseudonym IS NOT NULL",
            (study_id,),
        )
        return int(rows[0]["n"])

    async def participant_seen(self, study_id: str, participant: str) -> bool:
        rows = await self._read(
            "SELECT 1 FROM participants WHERE study_id = ? AND subject = ?",
            (study_id, tombstone_of(participant)),
        )
        return bool(rows)


def is_withdrawn(db: sqlite3.Connection, study_id: str, participant: str | None) -> bool:
    """Inside a write: has `participant` withdrawn? Writes of their content check this
    in the same transaction, so a task in flight during a withdrawal leaves no trace."""
    if participant is None:
        return False
    found = db.execute(
        "SELECT 1 FROM tombstones WHERE study_id = ? AND subject = ?",
        (study_id, tombstone_of(participant)),
    ).fetchone()
    return found is not None
