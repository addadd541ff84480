"""Stored Responses API conversations, so `previous_response_id` can be expanded."""

from __future__ import annotations

import sqlite3

from woz.store.database import SQLiteDatabase, now_text
from woz.store.sqlite_participants import is_withdrawn


class ResponseTables(SQLiteDatabase):
    async def save_response(
        self, response_id: str, study_id: str, participant: str | None, items_json: str
    ) -> None:
        def insert(db: sqlite3.Connection) -> None:
            if is_withdrawn(db, study_id, participant):
                return
            db.execute(
                "INSERT INTO responses (id, study_id, participant, created_at, items)"
                " VALUES (?, ?, ?, ?, ?)",
                (response_id, study_id, participant, now_text(), items_json),
            )

        await self._write(insert)

    async def get_response(self, response_id: str, study_id: str) -> str | None:
        rows = await self._read(
            "SELECT items FROM responses WHERE id = ? AND study_id = ?", (response_id, study_id)
        )
        return str(rows[0]["items"]) if rows else None
