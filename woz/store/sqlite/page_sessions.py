"""Participants' page sessions in SQLite (see `woz.store.page_sessions`)."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from woz.models.research import PageSession
from woz.store.page_sessions import PAGE_SESSION_FIELDS
from woz.store.rows import page_session_of
from woz.store.sqlite.database import SQLiteDatabase


def _value(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


class PageSessionTables(SQLiteDatabase):
    async def open_page_session(self, session: PageSession) -> PageSession:
        fields = session.model_dump()
        columns = ", ".join(fields)
        marks = ", ".join("?" for _ in fields)

        def insert(db: sqlite3.Connection) -> None:
            db.execute(
                f"INSERT INTO page_sessions ({columns}) VALUES ({marks})"
                " ON CONFLICT (study_id, subject) DO NOTHING",
                [_value(v) for v in fields.values()],
            )

        await self._write(insert)
        stored = await self.get_page_session(session.study_id, session.subject)
        assert stored is not None
        return stored

    async def get_page_session(self, study_id: str, subject: str) -> PageSession | None:
        rows = await self._read(
            "SELECT * FROM page_sessions WHERE study_id = ? AND subject = ?", (study_id, subject)
        )
        return page_session_of(rows[0]) if rows else None

    async def save_page_session(self, session: PageSession) -> None:
        sets = ", ".join(f"{name} = ?" for name in PAGE_SESSION_FIELDS)
        values = [_value(getattr(session, name)) for name in PAGE_SESSION_FIELDS]
        await self._write_changes(
            f"UPDATE page_sessions SET {sets} WHERE study_id = ? AND subject = ?",
            (*values, session.study_id, session.subject),
        )

    async def list_page_sessions(self, study_id: str) -> Sequence[PageSession]:
        rows = await self._read(
            "SELECT * FROM page_sessions WHERE study_id = ? ORDER BY started_at, subject",
            (study_id,),
        )
        return [page_session_of(row) for row in rows]
