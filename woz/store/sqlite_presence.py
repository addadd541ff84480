"""Operators: presence (timestamped changes of state, the labor ledger's raw material)
and consents to the reuse of their text, keyed by the operator's pseudonym."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import datetime

from woz.models.research import ConsentRecord, PresenceEvent
from woz.store.database import SQLiteDatabase
from woz.store.sqlite_participants import consent_of, insert_consent


class PresenceTables(SQLiteDatabase):
    async def add_presence(self, event: PresenceEvent) -> None:
        def insert(db: sqlite3.Connection) -> None:
            db.execute(
                "INSERT INTO operator_presence (study_id, operator, state, at) VALUES (?, ?, ?, ?)",
                (event.study_id, event.operator, event.state, event.at.isoformat()),
            )

        await self._write(insert)

    async def list_presence(self, study_id: str) -> Sequence[PresenceEvent]:
        rows = await self._read(
            "SELECT * FROM operator_presence WHERE study_id = ? ORDER BY at, seq", (study_id,)
        )
        return [
            PresenceEvent(
                study_id=row["study_id"],
                operator=row["operator"],
                state=row["state"],
                at=datetime.fromisoformat(row["at"]),
            )
            for row in rows
        ]

    async def add_operator_consent(self, consent: ConsentRecord) -> None:
        await self._write(lambda db: insert_consent(db, "operator_consents", "operator", consent))

    async def list_operator_consents(self, study_id: str) -> Sequence[ConsentRecord]:
        rows = await self._read(
            "SELECT * FROM operator_consents WHERE study_id = ? ORDER BY granted_at, id",
            (study_id,),
        )
        return [consent_of(row, "operator") for row in rows]
