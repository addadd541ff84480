"""Studies (and their pseudonymisation secrets), keys and console sessions."""

from __future__ import annotations

import secrets
import sqlite3
from collections.abc import Sequence
from datetime import datetime

from woz.models.keys import KeyInfo, KeyRole
from woz.store.rows import key_of
from woz.store.sqlite.database import SQLiteDatabase, now_text


class KeyTables(SQLiteDatabase):
    async def study_secret(self, study_id: str, title: str) -> bytes:
        fresh = secrets.token_bytes(32)

        def upsert(db: sqlite3.Connection) -> None:
            db.execute(
                "INSERT INTO studies (id, title, secret, created_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (id) DO UPDATE SET title = excluded.title",
                (study_id, title, fresh, now_text()),
            )

        await self._write(upsert)
        rows = await self._read("SELECT secret FROM studies WHERE id = ?", (study_id,))
        return bytes(rows[0]["secret"])

    async def add_key(
        self, key_id: str, study_id: str, role: KeyRole, name: str, token_hash: str
    ) -> KeyInfo:
        created = now_text()

        def insert(db: sqlite3.Connection) -> None:
            db.execute(
                "INSERT INTO keys (id, study_id, role, name, token_hash, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (key_id, study_id, role, name, token_hash, created),
            )

        await self._write(insert)
        return KeyInfo(
            id=key_id,
            study_id=study_id,
            role=role,
            name=name,
            created_at=datetime.fromisoformat(created),
        )

    async def key_by_hash(self, token_hash: str) -> KeyInfo | None:
        rows = await self._read(
            "SELECT * FROM keys WHERE token_hash = ? AND revoked_at IS NULL", (token_hash,)
        )
        return key_of(rows[0]) if rows else None

    async def list_keys(self, study_id: str | None) -> Sequence[KeyInfo]:
        rows = await self._read(
            "SELECT * FROM keys WHERE ? IS NULL OR study_id = ? ORDER BY created_at, id",
            (study_id, study_id),
        )
        return [key_of(row) for row in rows]

    async def revoke_key(self, key_id: str) -> KeyInfo | None:
        await self._write_changes(
            "UPDATE keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
            (now_text(), key_id),
        )
        rows = await self._read("SELECT * FROM keys WHERE id = ?", (key_id,))
        return key_of(rows[0]) if rows else None

    async def add_console_session(
        self, session_hash: str, key_id: str, expires_at: datetime
    ) -> None:
        def insert(db: sqlite3.Connection) -> None:
            db.execute(
                "INSERT INTO console_sessions (session_hash, key_id, expires_at) VALUES (?, ?, ?)",
                (session_hash, key_id, expires_at.isoformat()),
            )

        await self._write(insert)

    async def console_session(self, session_hash: str) -> KeyInfo | None:
        rows = await self._read(
            "SELECT keys.* FROM console_sessions JOIN keys ON keys.id = console_sessions.key_id "
            "WHERE session_hash = ? AND expires_at > ? AND keys.revoked_at IS NULL",
            (session_hash, now_text()),
        )
        return key_of(rows[0]) if rows else None
