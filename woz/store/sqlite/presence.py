"""Operators: presence (timestamped changes of state, the labor ledger's raw material),
consents to the reuse of their text and training, keyed by the operator's pseudonym."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from woz.models.research import ConsentRecord, OperatorTraining, PresenceEvent
from woz.store.rows import consent_of, presence_of, training_of
from woz.store.sqlite.database import SQLiteDatabase
from woz.store.sqlite.participants import insert_consent


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
        return [presence_of(row) for row in rows]

    async def add_operator_consent(self, consent: ConsentRecord) -> None:
        await self._write(lambda db: insert_consent(db, "operator_consents", "operator", consent))

    async def list_operator_consents(self, study_id: str) -> Sequence[ConsentRecord]:
        rows = await self._read(
            "SELECT * FROM operator_consents WHERE study_id = ? ORDER BY granted_at, id",
            (study_id,),
        )
        return [consent_of(row, "operator") for row in rows]

    async def add_operator_training(self, training: OperatorTraining) -> None:
        def insert(db: sqlite3.Connection) -> None:
            db.execute(
                "INSERT INTO operator_training (id, study_id, operator, trained_at, note)"
                " VALUES (?, ?, ?, ?, ?)",
                (
                    training.id,
                    training.study_id,
                    training.operator,
                    training.trained_at.isoformat(),
                    training.note,
                ),
            )

        await self._write(insert)

    async def list_operator_training(self, study_id: str) -> Sequence[OperatorTraining]:
        rows = await self._read(
            "SELECT * FROM operator_training WHERE study_id = ? ORDER BY trained_at, id",
            (study_id,),
        )
        return [training_of(row) for row in rows]
