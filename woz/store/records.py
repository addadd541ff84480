"""The record protocol: one record per task, written when the task ends.

Contract shared by every backend:
- `commit_record` returns only once the record is durable; callers rely on it to
  keep the invariant "committed before a byte reaches the client".
- A record of a participant who has withdrawn is dropped, atomically with respect
  to `erase_participant`: whichever commits second sees the other (SQLite: one
  writer; PostgreSQL: a per-participant advisory lock, shared by commits and held
  alone by the erasure).
- Delivery marks (`note_record_status`, `note_record_replayed`) are cheap, frequent
  writes that nobody needs to wait for: a backend may batch them with other writes
  (SQLite joins them to its next group commit, starting none of its own for a short
  while), so callers run them in the background. They are durable when they
  return, and a read through the same store that starts after they were called
  sees them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from woz.models.record import Record, RecordStatus


class RecordStore(Protocol):
    async def commit_record(self, record: Record) -> None:
        """Durably insert or replace `record` (dropped if its participant withdrew)."""

    async def set_record_status(
        self, record_id: str, status: RecordStatus, delivered_at: datetime | None = None
    ) -> None:
        """Durably set a record's delivery status, as one write of its own."""

    async def note_record_status(
        self, record_id: str, status: RecordStatus, delivered_at: datetime | None = None
    ) -> None:
        """Set a record's delivery status, possibly batched with other writes (see the
        module's contract); durable on return."""

    async def note_record_replayed(self, record_id: str) -> None:
        """Add one to the record's `replays` (its answer was given again to a retry),
        possibly batched with other writes; durable on return. Concurrent calls each
        count: the increment happens in the database, never read-modify-write."""

    async def get_record(self, record_id: str) -> Record | None: ...

    async def set_wizard_error(self, study_id: str, record_id: str, note: str | None) -> bool:
        """Flag the study's record as a wizard error (`note` says why), or clear the flag
        with None; False if the study has no such record."""

    async def list_records(
        self, study_id: str, participant: str | None = None, operator: str | None = None
    ) -> Sequence[Record]:
        """The study's records in order of arrival (only `participant`'s, or only those
        `operator` (a pseudonym) answered, if given)."""

    async def recent_records(self, study_id: str, limit: int) -> Sequence[Record]:
        """The study's `limit` latest records, newest first."""

    async def last_task_at(self, study_id: str, participant: str | None = None) -> datetime | None:
        """When the participant's (or, with None, the study's) last task arrived."""
