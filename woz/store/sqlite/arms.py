"""Arm assignments: a participant's condition, fixed at first sight."""

from __future__ import annotations

import sqlite3

from woz.store.arms import ArmDraw
from woz.store.sqlite.database import SQLiteDatabase, now_text


class ArmTables(SQLiteDatabase):
    async def assign_arm(self, study_id: str, participant: str, draw: ArmDraw) -> str:
        """The participant's arm: the stored one, or `draw.choose(position)` stored now.

        `position` is how many participants were assigned before this one. The
        choice and the insert run in one transaction on the store's single
        writer, so concurrent first requests cannot both take the same slot.
        """

        def assign(db: sqlite3.Connection) -> None:
            found = db.execute(
                "SELECT 1 FROM arm_assignments WHERE study_id = ? AND participant = ?",
                (study_id, participant),
            ).fetchone()
            if found:
                return
            (position,) = db.execute(
                "SELECT COUNT(*) FROM arm_assignments WHERE study_id = ?", (study_id,)
            ).fetchone()
            db.execute(
                "INSERT INTO arm_assignments"
                " (study_id, participant, arm, position, method, assigned_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (study_id, participant, draw.choose(position), position, draw.method, now_text()),
            )

        existing = await self.arm_of(study_id, participant)
        if existing is not None:
            return existing
        await self._write(assign)
        arm = await self.arm_of(study_id, participant)
        assert arm is not None
        return arm

    async def arm_of(self, study_id: str, participant: str) -> str | None:
        rows = await self._read(
            "SELECT arm FROM arm_assignments WHERE study_id = ? AND participant = ?",
            (study_id, participant),
        )
        return str(rows[0]["arm"]) if rows else None

    async def arm_counts(self, study_id: str) -> dict[str, int]:
        rows = await self._read(
            "SELECT arm, COUNT(*) AS n FROM arm_assignments WHERE study_id = ? GROUP BY arm",
            (study_id,),
        )
        return {str(row["arm"]): int(row["n"]) for row in rows}
