"""The research half of the Store protocol: participants, consent, disclosure,
withdrawal, operator presence, the audit log and the study definitions served.

Contract shared by every implementation:
- Participants are known by pseudonym only while they take part; consent and
  disclosure are keyed by their subject (`tombstone_of(pseudonym)`).
- Consents (participants' and operators'), disclosure events and audit entries
  are append-only.
- `erase_participant` deletes every trace of the pseudonym in one transaction,
  and from then on `commit_record` and `save_response` drop whatever that
  participant's tasks still in flight produce.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from woz.models.research import (
    AuditEntry,
    ConsentRecord,
    DisclosureEvent,
    OperatorTraining,
    PresenceEvent,
    Tombstone,
)


class ResearchStore(Protocol):
    async def register_participant(self, study_id: str, participant: str, at: datetime) -> None:
        """Note a participant at first sight (no-op if known, or withdrawn)."""

    async def participant_count(self, study_id: str) -> int:
        """Participants seen and not withdrawn."""

    async def participant_seen(self, study_id: str, participant: str) -> bool:
        """Whether the participant was ever registered (seen in a task), withdrawn or not."""

    async def last_task_at(self, study_id: str, participant: str | None = None) -> datetime | None:
        """When the participant's (or, with None, the study's) last task arrived."""

    async def add_consent(self, consent: ConsentRecord) -> None: ...

    async def list_consents(
        self, study_id: str, subject: str | None = None
    ) -> Sequence[ConsentRecord]:
        """Consents in the order given, for one subject or the whole study."""

    async def add_disclosure(self, event: DisclosureEvent) -> None: ...

    async def list_disclosures(
        self, study_id: str, subject: str | None = None
    ) -> Sequence[DisclosureEvent]:
        """Disclosure events in the order appended."""

    async def erase_participant(self, study_id: str, participant: str, at: datetime) -> Tombstone:
        """Delete the participant's content everywhere, keep a tombstone; idempotent."""

    async def tombstone(self, study_id: str, subject: str) -> Tombstone | None: ...

    async def list_tombstones(self, study_id: str) -> Sequence[Tombstone]: ...

    async def add_presence(self, event: PresenceEvent) -> None: ...

    async def list_presence(self, study_id: str) -> Sequence[PresenceEvent]:
        """Presence changes in time order."""

    async def add_operator_consent(self, consent: ConsentRecord) -> None:
        """Append an operator's consent to the reuse of their text (`subject` is the
        operator's pseudonym, as in records)."""

    async def list_operator_consents(self, study_id: str) -> Sequence[ConsentRecord]:
        """Operators' consents in the order given."""

    async def add_operator_training(self, training: OperatorTraining) -> None:
        """Append that an operator was trained (append-only)."""

    async def list_operator_training(self, study_id: str) -> Sequence[OperatorTraining]:
        """Operators' trainings in time order."""

    async def append_audit(
        self,
        study_id: str,
        actor: str,
        action: str,
        subject: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        """Append an entry to the study's hash chain (see `woz.research.audit`)."""

    async def list_audit(self, study_id: str) -> Sequence[AuditEntry]: ...

    async def audited_studies(self) -> Sequence[str]: ...

    async def save_study_definition(self, study_id: str, definition_json: str) -> bool:
        """Keep the definition the study is served with; True when it is new."""

    async def study_definition(self, study_id: str) -> str | None:
        """The definition last served, as JSON, or None."""

    async def served_studies(self) -> Sequence[str]:
        """The ids of the studies ever served from this store, in order."""
