"""Participants, consents, disclosure events, withdrawal and arms, in PostgreSQL.

Withdrawal holds the participant's advisory lock alone while it erases, so it
serialises with commits of their records and responses (`pg_records.withdrawn`).
An arm is assigned under the study's arm lock: the position read and the row
written are one step for every writer (and `(study_id, position)` is unique).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Literal

from psycopg.rows import DictRow

from woz.models.pseudonyms import tombstone_of
from woz.models.research import ConsentRecord, DisclosureEvent, Tombstone
from woz.store.arms import ArmDraw
from woz.store.postgres.database import ARM_LOCK, PARTICIPANT_LOCK, PostgresDatabase, lock
from woz.store.rows import consent_of, disclosure_of, tombstone_row


def consent_params(consent: ConsentRecord) -> tuple[object, ...]:
    return (
        consent.id,
        consent.study_id,
        consent.subject,
        consent.version,
        consent.text_sha256,
        consent.method,
        json.dumps(consent.scopes),
        consent.granted_at,
    )


class PgParticipantTables(PostgresDatabase):
    async def register_participant(self, study_id: str, participant: str, at: datetime) -> None:
        await self._execute(
            "INSERT INTO participants (study_id, subject, pseudonym, first_seen_at)"
            " VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING",
            (study_id, tombstone_of(participant), participant, at),
        )

    async def participant_count(self, study_id: str) -> int:
        rows = await self._rows(
            "SELECT COUNT(*) AS n FROM participants WHERE study_id = %s AND pseudonym IS NOT NULL",
            (study_id,),
        )
        return int(rows[0]["n"])

    async def participant_seen(self, study_id: str, participant: str) -> bool:
        rows = await self._rows(
            "SELECT 1 FROM participants WHERE study_id = %s AND subject = %s",
            (study_id, tombstone_of(participant)),
        )
        return bool(rows)

    async def add_consent(self, consent: ConsentRecord) -> None:
        await self._execute(
            "INSERT INTO consents (id, study_id, subject, version, text_sha256, method, scopes,"
            " granted_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
            consent_params(consent),
        )

    async def list_consents(
        self, study_id: str, subject: str | None = None
    ) -> Sequence[ConsentRecord]:
        rows = await self._subject_rows("consents", study_id, subject, "granted_at, id")
        return [consent_of(row) for row in rows]

    async def add_disclosure(self, event: DisclosureEvent) -> None:
        await self._execute(
            "INSERT INTO disclosures (id, study_id, subject, kind, at, text_sha256, details)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s)",
            (
                event.id,
                event.study_id,
                event.subject,
                event.kind,
                event.at,
                event.text_sha256,
                json.dumps(event.details),
            ),
        )

    async def list_disclosures(
        self, study_id: str, subject: str | None = None
    ) -> Sequence[DisclosureEvent]:
        rows = await self._subject_rows("disclosures", study_id, subject, "seq")
        return [disclosure_of(row) for row in rows]

    async def _subject_rows(
        self,
        table: Literal["consents", "disclosures"],
        study_id: str,
        subject: str | None,
        order: str,
    ) -> list[DictRow]:
        if subject is None:
            return await self._rows(
                f"SELECT * FROM {table} WHERE study_id = %s ORDER BY {order}", (study_id,)
            )
        return await self._rows(
            f"SELECT * FROM {table} WHERE study_id = %s AND subject = %s ORDER BY {order}",
            (study_id, subject),
        )

    async def erase_participant(self, study_id: str, participant: str, at: datetime) -> Tombstone:
        subject = tombstone_of(participant)
        async with self._transaction() as db:
            await lock(db, PARTICIPANT_LOCK, study_id, subject)
            cursor = await db.execute(
                "SELECT * FROM tombstones WHERE study_id = %s AND subject = %s",
                (study_id, subject),
            )
            known = await cursor.fetchone()
            if known is not None:
                return tombstone_row(known)
            deleted = await db.execute(
                "DELETE FROM records WHERE study_id = %s AND participant = %s",
                (study_id, participant),
            )
            for table in ("responses", "questionnaire_answers", "feedback", "answer_reads"):
                await db.execute(
                    f"DELETE FROM {table} WHERE study_id = %s AND participant = %s",
                    (study_id, participant),
                )
            await db.execute(
                "UPDATE arm_assignments SET participant = %s"
                " WHERE study_id = %s AND participant = %s",
                (subject, study_id, participant),
            )
            await db.execute(  # the session stays, payable, without the pseudonym
                "UPDATE page_sessions SET participant = NULL WHERE study_id = %s AND subject = %s",
                (study_id, subject),
            )
            await db.execute(
                "INSERT INTO participants (study_id, subject, pseudonym, first_seen_at)"
                " VALUES (%s, %s, NULL, %s) ON CONFLICT (study_id, subject) DO UPDATE"
                " SET pseudonym = NULL",
                (study_id, subject, at),
            )
            cursor = await db.execute(
                "INSERT INTO tombstones (study_id, subject, withdrawn_at, records_deleted)"
                " VALUES (%s, %s, %s, %s) RETURNING *",
                (study_id, subject, at, deleted.rowcount),
            )
            row = await cursor.fetchone()
            assert row is not None
            return tombstone_row(row)

    async def tombstone(self, study_id: str, subject: str) -> Tombstone | None:
        rows = await self._rows(
            "SELECT * FROM tombstones WHERE study_id = %s AND subject = %s", (study_id, subject)
        )
        return tombstone_row(rows[0]) if rows else None

    async def list_tombstones(self, study_id: str) -> Sequence[Tombstone]:
        rows = await self._rows(
            "SELECT * FROM tombstones WHERE study_id = %s ORDER BY withdrawn_at, subject",
            (study_id,),
        )
        return [tombstone_row(row) for row in rows]

    async def assign_arm(self, study_id: str, participant: str, draw: ArmDraw) -> str:
        existing = await self.arm_of(study_id, participant)
        if existing is not None:
            return existing
        async with self._transaction() as db:
            await lock(db, ARM_LOCK, study_id)
            cursor = await db.execute(
                "SELECT arm FROM arm_assignments WHERE study_id = %s AND participant = %s",
                (study_id, participant),
            )
            found = await cursor.fetchone()
            if found is not None:
                return str(found["arm"])
            cursor = await db.execute(
                "SELECT COUNT(*) AS n FROM arm_assignments WHERE study_id = %s", (study_id,)
            )
            counted = await cursor.fetchone()
            position = int(counted["n"]) if counted else 0
            arm = draw.choose(position)
            await db.execute(
                "INSERT INTO arm_assignments"
                " (study_id, participant, arm, position, method, assigned_at)"
                " VALUES (%s, %s, %s, %s, %s, now())",
                (study_id, participant, arm, position, draw.method),
            )
            return arm

    async def arm_of(self, study_id: str, participant: str) -> str | None:
        rows = await self._rows(
            "SELECT arm FROM arm_assignments WHERE study_id = %s AND participant = %s",
            (study_id, participant),
        )
        return str(rows[0]["arm"]) if rows else None

    async def arm_counts(self, study_id: str) -> dict[str, int]:
        rows = await self._rows(
            "SELECT arm, COUNT(*) AS n FROM arm_assignments WHERE study_id = %s GROUP BY arm",
            (study_id,),
        )
        return {str(row["arm"]): int(row["n"]) for row in rows}
