"""The audit log, one hash chain per study, and the study definitions served.

An entry is linked to its predecessor inside the write transaction (the store
has a single writer thread and SQLite serialises writers across processes),
so two processes appending at once still form one unbroken chain.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from woz.models.audit_chain import GENESIS, entry_hash
from woz.models.research import AuditEntry
from woz.store.rows import audit_entry_of
from woz.store.sqlite.database import SQLiteDatabase, now_text


class AuditTables(SQLiteDatabase):
    async def append_audit(
        self,
        study_id: str,
        actor: str,
        action: str,
        subject: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        at = datetime.now(UTC)
        facts = details or {}

        def append(db: sqlite3.Connection) -> None:
            last = db.execute(
                "SELECT seq, hash FROM audit_log WHERE study_id = ? ORDER BY seq DESC LIMIT 1",
                (study_id,),
            ).fetchone()
            seq, prev = (last["seq"] + 1, last["hash"]) if last else (1, GENESIS)
            digest = entry_hash(prev, study_id, seq, at, actor, action, subject, facts)
            db.execute(
                "INSERT INTO audit_log (study_id, seq, at, actor, action, subject, details,"
                " prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    study_id,
                    seq,
                    at.isoformat(),
                    actor,
                    action,
                    subject,
                    json.dumps(facts),
                    prev,
                    digest,
                ),
            )

        await self._write(append)

    async def list_audit(self, study_id: str) -> Sequence[AuditEntry]:
        rows = await self._read(
            "SELECT * FROM audit_log WHERE study_id = ? ORDER BY seq", (study_id,)
        )
        return [audit_entry_of(row) for row in rows]

    async def audited_studies(self) -> Sequence[str]:
        rows = await self._read("SELECT DISTINCT study_id FROM audit_log ORDER BY study_id")
        return [str(row["study_id"]) for row in rows]

    async def save_study_definition(self, study_id: str, definition_json: str) -> bool:
        """Keep the definition a study is served with; True when it is new (or changed)."""
        digest = hashlib.sha256(definition_json.encode()).hexdigest()
        now = now_text()
        known = await self._read(
            "SELECT 1 FROM study_definitions WHERE study_id = ? AND sha256 = ?",
            (study_id, digest),
        )

        def upsert(db: sqlite3.Connection) -> None:
            db.execute(
                "INSERT INTO study_definitions (study_id, sha256, definition, first_served_at,"
                " last_served_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (study_id, sha256)"
                " DO UPDATE SET last_served_at = excluded.last_served_at",
                (study_id, digest, definition_json, now, now),
            )

        await self._write(upsert)
        return not known

    async def study_definition(self, study_id: str) -> str | None:
        """The definition the study was last served with (JSON), or None if never served."""
        rows = await self._read(
            "SELECT definition FROM study_definitions WHERE study_id = ?"
            " ORDER BY last_served_at DESC LIMIT 1",
            (study_id,),
        )
        return str(rows[0]["definition"]) if rows else None

    async def served_studies(self) -> Sequence[str]:
        rows = await self._read("SELECT DISTINCT study_id FROM study_definitions ORDER BY study_id")
        return [str(row["study_id"]) for row in rows]
