"""The audit log and the study definitions served, in PostgreSQL.

An entry is linked to its predecessor under the study's audit lock (an advisory
lock held until the inserting transaction commits), so any number of writers in
any number of processes form one unbroken chain (see `woz.store.audit`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from woz.models.audit_chain import GENESIS, entry_hash
from woz.models.research import AuditEntry
from woz.store.postgres.database import AUDIT_LOCK, PostgresDatabase, lock
from woz.store.rows import audit_entry_of


class PgAuditTables(PostgresDatabase):
    async def append_audit(
        self,
        study_id: str,
        actor: str,
        action: str,
        subject: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        facts = details or {}
        async with self._transaction() as db:
            await lock(db, AUDIT_LOCK, study_id)
            at = datetime.now(UTC)  # under the lock, so times rise with the sequence
            cursor = await db.execute(
                "SELECT seq, hash FROM audit_log WHERE study_id = %s ORDER BY seq DESC LIMIT 1",
                (study_id,),
            )
            last = await cursor.fetchone()
            seq, prev = (last["seq"] + 1, last["hash"]) if last else (1, GENESIS)
            digest = entry_hash(prev, study_id, seq, at, actor, action, subject, facts)
            await db.execute(
                "INSERT INTO audit_log (study_id, seq, at, actor, action, subject, details,"
                " prev_hash, hash) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
                (study_id, seq, at, actor, action, subject, json.dumps(facts), prev, digest),
            )

    async def list_audit(self, study_id: str) -> Sequence[AuditEntry]:
        rows = await self._rows(
            "SELECT * FROM audit_log WHERE study_id = %s ORDER BY seq", (study_id,)
        )
        return [audit_entry_of(row) for row in rows]

    async def audited_studies(self) -> Sequence[str]:
        rows = await self._rows("SELECT DISTINCT study_id FROM audit_log ORDER BY study_id")
        return [str(row["study_id"]) for row in rows]

    async def save_study_definition(self, study_id: str, definition_json: str) -> bool:
        digest = hashlib.sha256(definition_json.encode()).hexdigest()
        # `xmax = 0` only for a row this statement inserted (an update leaves its xid).
        rows = await self._rows(
            "INSERT INTO study_definitions (study_id, sha256, definition, first_served_at,"
            " last_served_at) VALUES (%s, %s, %s, now(), now()) ON CONFLICT (study_id, sha256)"
            " DO UPDATE SET last_served_at = excluded.last_served_at"
            " RETURNING (xmax = 0) AS inserted",
            (study_id, digest, definition_json),
        )
        return bool(rows[0]["inserted"])

    async def study_definition(self, study_id: str) -> str | None:
        rows = await self._rows(
            "SELECT definition FROM study_definitions WHERE study_id = %s"
            " ORDER BY last_served_at DESC LIMIT 1",
            (study_id,),
        )
        return str(rows[0]["definition"]) if rows else None

    async def served_studies(self) -> Sequence[str]:
        rows = await self._rows("SELECT DISTINCT study_id FROM study_definitions ORDER BY study_id")
        return [str(row["study_id"]) for row in rows]
