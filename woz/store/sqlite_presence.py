"""Operator presence: timestamped changes of state, the labor ledger's raw material."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import datetime

from woz.models.research import PresenceEvent
from woz.store.database import SQLiteDatabase


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
