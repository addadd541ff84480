"""What woz keeps about research ethics: consent, disclosure, withdrawal, presence, audit.

Participants appear here only by their *subject*: a SHA-256 of their study
pseudonym (`woz.models.pseudonyms.tombstone_of`). When a participant
withdraws, their pseudonym is erased everywhere and the subject is what
remains: the tombstone. Consent records and disclosure events are keyed by it
from the start, so withdrawal never has to edit them.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, Field

from woz.models.study import PermittedUse


class ConsentRecord(BaseModel):
    """One consent given: to which text (hash and version), how, when, for which uses."""

    id: str
    study_id: str
    subject: str
    version: str
    text_sha256: str
    method: str
    scopes: list[PermittedUse]
    granted_at: datetime


class DisclosureKind(StrEnum):
    """What a participant was told or decided, in the order a study usually meets them."""

    PRE_SESSION_NOTICE = "pre_session_notice"
    DEBRIEFED = "debriefed"
    RECONSENT_GRANTED = "reconsent_granted"
    RECONSENT_REFUSED = "reconsent_refused"
    WITHDRAWAL_REQUESTED = "withdrawal_requested"
    DELETION_COMPLETED = "deletion_completed"


class DisclosureEvent(BaseModel):
    """One disclosure event; appended, never edited (the table refuses updates)."""

    id: str
    study_id: str
    subject: str
    kind: DisclosureKind
    at: datetime
    text_sha256: str | None = None
    details: dict[str, Any] = Field(default_factory=dict)


class Tombstone(BaseModel):
    """What is left of a withdrawn participant: the subject hash and what was deleted."""

    study_id: str
    subject: str
    withdrawn_at: datetime
    records_deleted: int


PresenceState = Literal["available", "paused", "offline"]


class PresenceEvent(BaseModel):
    """An operator became available (ready), paused, or went offline, at `at`."""

    study_id: str
    operator: str
    state: PresenceState
    at: datetime


class OperatorTraining(BaseModel):
    """An operator was trained for the study (Riek: Wizard-of-Oz studies should
    report wizard training): when, and what the training was."""

    id: str
    study_id: str
    operator: str  # the operator's pseudonym
    trained_at: datetime
    note: str


class AuditEntry(BaseModel):
    """One link of a study's hash chain: `hash` covers every other field and `prev_hash`."""

    study_id: str
    seq: int
    at: datetime
    actor: str
    action: str
    subject: str | None = None
    details: dict[str, Any] = Field(default_factory=dict)
    prev_hash: str
    hash: str


Outcome = Literal["completed", "screened_out", "timed_out"]
"""How a participant's page session ended, each with its own completion code:
`completed` (the whole flow), `screened_out` (refused consent), `timed_out` (the
study's time limit ended the chat)."""


class PageSession(BaseModel):
    """One participant's way through the participant page, from the first visit to the
    completion code: what a recruitment platform's submission is paid against.

    Keyed by the participant's subject, so it outlives a withdrawal: withdrawing
    never forfeits pay. `participant` (the pseudonym) is erased by the withdrawal
    like every other trace of it. `platform_session` is the platform's id of the
    submission (Prolific's SESSION_ID, MTurk's assignmentId), never a person's id;
    `consent_id` links it to the consent given on the page.
    """

    study_id: str
    subject: str
    participant: str | None
    platform: str
    platform_session: str | None = None
    platform_study: str | None = None
    consent_id: str | None = None
    arm: str | None = None
    started_at: datetime
    chat_started_at: datetime | None = None
    chat_ended_at: datetime | None = None
    ended_by: Literal["participant", "time_limit"] | None = None
    finished_at: datetime | None = None
    outcome: Outcome | None = None
    code: str | None = None
