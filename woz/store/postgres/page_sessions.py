"""Participants' page sessions in PostgreSQL (see `woz.store.page_sessions`)."""

from __future__ import annotations

from collections.abc import Sequence

from woz.models.research import PageSession
from woz.store.page_sessions import PAGE_SESSION_FIELDS
from woz.store.postgres.database import PostgresDatabase
from woz.store.rows import page_session_of


class PgPageSessionTables(PostgresDatabase):
    async def open_page_session(self, session: PageSession) -> PageSession:
        fields = session.model_dump()
        columns = ", ".join(fields)
        marks = ", ".join("%s" for _ in fields)
        await self._execute(
            f"INSERT INTO page_sessions ({columns}) VALUES ({marks})"
            " ON CONFLICT (study_id, subject) DO NOTHING",
            list(fields.values()),
        )
        stored = await self.get_page_session(session.study_id, session.subject)
        assert stored is not None
        return stored

    async def get_page_session(self, study_id: str, subject: str) -> PageSession | None:
        rows = await self._rows(
            "SELECT * FROM page_sessions WHERE study_id = %s AND subject = %s",
            (study_id, subject),
        )
        return page_session_of(rows[0]) if rows else None

    async def save_page_session(self, session: PageSession) -> None:
        sets = ", ".join(f"{name} = %s" for name in PAGE_SESSION_FIELDS)
        values = [getattr(session, name) for name in PAGE_SESSION_FIELDS]
        await self._execute(
            f"UPDATE page_sessions SET {sets} WHERE study_id = %s AND subject = %s",
            (*values, session.study_id, session.subject),
        )

    async def list_page_sessions(self, study_id: str) -> Sequence[PageSession]:
        rows = await self._rows(
            "SELECT * FROM page_sessions WHERE study_id = %s ORDER BY started_at, subject",
            (study_id,),
        )
        return [page_session_of(row) for row in rows]
