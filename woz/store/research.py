"""The research protocol: participants, consent, disclosure, withdrawal, arms, and
operators' presence, consents and training.

Contract shared by every backend:
- Participants are known by pseudonym only while they take part; consent and
  disclosure are keyed by their subject (`tombstone_of(pseudonym)`).
- Consents (participants' and operators'), disclosure events and operators'
  trainings are append-only, enforced by the database (triggers).
- `erase_participant` deletes every trace of the pseudonym in one transaction,
  and from then on `commit_record` and `save_response` drop whatever that
  participant's tasks still in flight produce.
- `assign_arm` is atomic per study: with any number of concurrent writers, each
  participant gets one arm, and positions 0, 1, 2, ... are each taken once
  (SQLite: its single writer; PostgreSQL: a per-study advisory lock held by the
  assigning transaction).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from woz.models.research import (
    ConsentRecord,
    DisclosureEvent,
    OperatorTraining,
    PresenceEvent,
    Tombstone,
)
from woz.store.arms import ArmDraw


class ParticipantStore(Protocol):
    async def register_participant(self, study_id: str, participant: str, at: datetime) -> None:
        """Note a participant at first sight (no-op if known, or withdrawn)."""

    async def participant_count(self, study_id: str) -> int:
        """Participants seen and not withdrawn."""

    async def participant_seen(self, study_id: str, participant: str) -> bool:
        """Whether the participant was ever registered (seen in a task), withdrawn or not."""

    async def add_consent(self, consent: ConsentRecord) -> None:
        """Append a participant's consent (append-only)."""

    async def list_consents(
        self, study_id: str, subject: str | None = None
    ) -> Sequence[ConsentRecord]:
        """Consents in the order given, for one subject or the whole study."""

    async def add_disclosure(self, event: DisclosureEvent) -> None:
        """Append a disclosure event (append-only)."""

    async def list_disclosures(
        self, study_id: str, subject: str | None = None
    ) -> Sequence[DisclosureEvent]:
        """Disclosure events in the order appended."""

    async def erase_participant(self, study_id: str, participant: str, at: datetime) -> Tombstone:
        """Delete the participant's content everywhere, keep a tombstone; idempotent (a
        second call returns the first tombstone). The arm assignment is re-keyed to the
        subject, so that balanced assignment keeps its counts; the page session loses
        its pseudonym and keeps the rest (`woz.store.page_sessions`)."""

    async def tombstone(self, study_id: str, subject: str) -> Tombstone | None: ...

    async def list_tombstones(self, study_id: str) -> Sequence[Tombstone]:
        """The study's tombstones in order of withdrawal."""


class ArmStore(Protocol):
    async def assign_arm(self, study_id: str, participant: str, draw: ArmDraw) -> str:
        """The participant's arm: the stored one, or `draw.choose(position)` stored
        atomically, `position` being how many participants of the study were
        assigned before (see the module's concurrency rule)."""

    async def arm_of(self, study_id: str, participant: str) -> str | None: ...

    async def arm_counts(self, study_id: str) -> dict[str, int]: ...


class OperatorStore(Protocol):
    async def add_presence(self, event: PresenceEvent) -> None:
        """Append an operator's change of state (available, paused, offline)."""

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


class ResearchStore(ParticipantStore, ArmStore, OperatorStore, Protocol):
    """Everything the research layer keeps about people taking part."""
