"""The Store protocol: everything woz persists goes through these methods.

Contract shared by every implementation:
- `commit_record` returns only once the record is durable; callers rely on it
  to keep the invariant "committed before a byte reaches the client".
- Tokens are passed in already hashed; a store never sees a secret.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Protocol

from woz.models.keys import KeyInfo, KeyRole
from woz.models.record import Record, RecordStatus
from woz.store.research import ResearchStore


class Store(ResearchStore, Protocol):
    async def open(self) -> None:
        """Create or migrate the schema; must be called before anything else."""

    async def close(self) -> None: ...

    async def study_secret(self, study_id: str, title: str) -> bytes:
        """The study's pseudonymisation secret, created on first use."""

    async def add_key(
        self, key_id: str, study_id: str, role: KeyRole, name: str, token_hash: str
    ) -> KeyInfo: ...

    async def key_by_hash(self, token_hash: str) -> KeyInfo | None: ...

    async def list_keys(self, study_id: str) -> Sequence[KeyInfo]: ...

    async def add_console_session(
        self, session_hash: str, key_id: str, expires_at: datetime
    ) -> None: ...

    async def console_session(self, session_hash: str) -> KeyInfo | None:
        """The operator key behind a live console session, or None if unknown or expired."""

    async def commit_record(self, record: Record) -> None:
        """Durably insert or replace `record`."""

    async def set_record_status(
        self, record_id: str, status: RecordStatus, delivered_at: datetime | None = None
    ) -> None:
        """Durably set a record's delivery status."""

    def note_record_status(
        self, record_id: str, status: RecordStatus, delivered_at: datetime | None = None
    ) -> None:
        """Set a record's delivery status with the next commit, without waiting for it;
        reads made afterwards see it."""

    def note_record_replayed(self, record_id: str) -> None:
        """Add one to the record's `replays` with the next commit, without waiting for
        it; reads made afterwards see it."""

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

    async def save_response(
        self,
        response_id: str,
        study_id: str,
        participant: str | None,
        items_json: str,
        response_json: str,
    ) -> None:
        """Durably keep a Responses API response, replacing what was kept under its id:
        its conversation (an empty text while it has no answer) and the response
        object as returned (both opaque JSON texts)."""

    async def get_response(self, response_id: str, study_id: str) -> str | None:
        """The conversation saved for `response_id` in this study, or None."""

    async def get_response_object(self, response_id: str, study_id: str) -> str | None:
        """The response object saved for `response_id` in this study, or None."""

    async def delete_response(self, response_id: str, study_id: str) -> bool:
        """Forget a stored response; False if there was none."""

    async def assign_arm(
        self, study_id: str, participant: str, choose: Callable[[int], str], method: str
    ) -> str:
        """The participant's arm: the stored one, or `choose(position)` stored atomically,
        `position` being how many participants of the study were assigned before."""

    async def arm_of(self, study_id: str, participant: str) -> str | None: ...

    async def arm_counts(self, study_id: str) -> dict[str, int]: ...
