"""Stored Responses API responses in PostgreSQL (see `woz.store.responses`)."""

from __future__ import annotations

from typing import Literal

from woz.store.postgres.database import PostgresDatabase
from woz.store.postgres.records import withdrawn


class PgResponseTables(PostgresDatabase):
    async def save_response(
        self,
        response_id: str,
        study_id: str,
        participant: str | None,
        items_json: str,
        response_json: str,
    ) -> None:
        async with self._transaction() as db:
            if await withdrawn(db, study_id, participant):
                return
            await db.execute(
                "INSERT INTO responses (id, study_id, participant, created_at, items, response)"
                " VALUES (%s, %s, %s, now(), %s, %s) ON CONFLICT (id) DO UPDATE SET"
                " study_id = excluded.study_id, participant = excluded.participant,"
                " created_at = excluded.created_at, items = excluded.items,"
                " response = excluded.response",
                (response_id, study_id, participant, items_json, response_json),
            )

    async def get_response(self, response_id: str, study_id: str) -> str | None:
        return await self._response_column("items", response_id, study_id)

    async def get_response_object(self, response_id: str, study_id: str) -> str | None:
        return await self._response_column("response", response_id, study_id)

    async def delete_response(self, response_id: str, study_id: str) -> bool:
        changed = await self._execute(
            "DELETE FROM responses WHERE id = %s AND study_id = %s", (response_id, study_id)
        )
        return changed > 0

    async def _response_column(
        self, column: Literal["items", "response"], response_id: str, study_id: str
    ) -> str | None:
        rows = await self._rows(
            f"SELECT {column} FROM responses WHERE id = %s AND study_id = %s",
            (response_id, study_id),
        )
        value = rows[0][column] if rows else None
        return None if value is None else str(value)
