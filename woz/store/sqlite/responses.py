"""Stored Responses API responses: the conversation, so `previous_response_id` can be
expanded, and the response object, so `GET /v1/responses/{id}` can return it."""

from __future__ import annotations

import sqlite3
from typing import Literal

from woz.store.sqlite.database import SQLiteDatabase, now_text
from woz.store.sqlite.participants import is_withdrawn


class ResponseTables(SQLiteDatabase):
    async def save_response(
        self,
        response_id: str,
        study_id: str,
        participant: str | None,
        items_json: str,
        response_json: str,
    ) -> None:
        def insert(db: sqlite3.Connection) -> None:
            if is_withdrawn(db, study_id, participant):
                return
            db.execute(
                "INSERT OR REPLACE INTO responses"
                " (id, study_id, participant, created_at, items, response)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (response_id, study_id, participant, now_text(), items_json, response_json),
            )

        await self._write(insert)

    async def get_response(self, response_id: str, study_id: str) -> str | None:
        return await self._response_column("items", response_id, study_id)

    async def get_response_object(self, response_id: str, study_id: str) -> str | None:
        # Responses stored before the object was kept (schema 5 and earlier) have none.
        return await self._response_column("response", response_id, study_id)

    async def delete_response(self, response_id: str, study_id: str) -> bool:
        changed = await self._write_changes(
            "DELETE FROM responses WHERE id = ? AND study_id = ?", (response_id, study_id)
        )
        return changed > 0

    async def _response_column(
        self, column: Literal["items", "response"], response_id: str, study_id: str
    ) -> str | None:
        rows = await self._read(
            f"SELECT {column} FROM responses WHERE id = ? AND study_id = ?",
            (response_id, study_id),
        )
        value = rows[0][column] if rows else None
        return None if value is None else str(value)
