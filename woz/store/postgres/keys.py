"""Studies (and their pseudonymisation secrets), keys and console sessions, in PostgreSQL."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import UTC, datetime

from woz.models.keys import KeyInfo, KeyRole
from woz.store.postgres.database import PostgresDatabase
from woz.store.rows import key_of


class PgKeyTables(PostgresDatabase):
    async def study_secret(self, study_id: str, title: str) -> bytes:
        # The first writer's secret stays: a concurrent upsert only updates the title.
        rows = await self._rows(
            "INSERT INTO studies (id, title, secret, created_at) VALUES (%s, %s, %s, now())"
            " ON CONFLICT (id) DO UPDATE SET title = excluded.title RETURNING secret",
            (study_id, title, secrets.token_bytes(32)),
        )
        return bytes(rows[0]["secret"])

    async def add_key(
        self, key_id: str, study_id: str, role: KeyRole, name: str, token_hash: str
    ) -> KeyInfo:
        created = datetime.now(UTC)
        await self._execute(
            "INSERT INTO keys (id, study_id, role, name, token_hash, created_at)"
            " VALUES (%s, %s, %s, %s, %s, %s)",
            (key_id, study_id, role, name, token_hash, created),
        )
        return KeyInfo(id=key_id, study_id=study_id, role=role, name=name, created_at=created)

    async def key_by_hash(self, token_hash: str) -> KeyInfo | None:
        rows = await self._rows(
            "SELECT * FROM keys WHERE token_hash = %s AND revoked_at IS NULL", (token_hash,)
        )
        return key_of(rows[0]) if rows else None

    async def list_keys(self, study_id: str | None) -> Sequence[KeyInfo]:
        rows = await self._rows(
            "SELECT * FROM keys WHERE %s::text IS NULL OR study_id = %s ORDER BY created_at, id",
            (study_id, study_id),
        )
        return [key_of(row) for row in rows]

    async def revoke_key(self, key_id: str) -> KeyInfo | None:
        await self._execute(
            "UPDATE keys SET revoked_at = now() WHERE id = %s AND revoked_at IS NULL", (key_id,)
        )
        rows = await self._rows("SELECT * FROM keys WHERE id = %s", (key_id,))
        return key_of(rows[0]) if rows else None

    async def add_console_session(
        self, session_hash: str, key_id: str, expires_at: datetime
    ) -> None:
        await self._execute(
            "INSERT INTO console_sessions (session_hash, key_id, expires_at) VALUES (%s, %s, %s)",
            (session_hash, key_id, expires_at),
        )

    async def console_session(self, session_hash: str) -> KeyInfo | None:
        rows = await self._rows(
            "SELECT keys.* FROM console_sessions JOIN keys ON keys.id = console_sessions.key_id"
            " WHERE session_hash = %s AND expires_at > now() AND keys.revoked_at IS NULL",
            (session_hash,),
        )
        return key_of(rows[0]) if rows else None
