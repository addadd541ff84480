"""Disclosure: what each participant was told, derived from append-only events.

Records are never edited to say that a participant was debriefed or withdrew.
`Standing` is computed from the consent records, the disclosure events and the
tombstone of a participant, and `disclose` copies it onto records as they are
read for an export, so the events stay the single source of truth.

Debrief deadlines: a study's debrief is due `deadline_days` after the
participant's last task (`end_of_session`) or after the study's last task
(`end_of_study`); a study with debrief policy `none` has no deadline.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel

from woz.models.record import Record
from woz.models.research import ConsentRecord, DisclosureEvent, DisclosureKind, Tombstone
from woz.models.study import Study
from woz.research.consent import latest_consent


class Standing(BaseModel):
    """One participant's consent and disclosure state at the time it was derived."""

    subject: str
    consent: ConsentRecord | None = None
    notified_at: datetime | None = None
    debriefed_at: datetime | None = None
    reconsent: Literal["granted", "refused"] | None = None
    withdrawal_requested_at: datetime | None = None
    withdrawn_at: datetime | None = None

    @property
    def debriefed(self) -> bool:
        return self.debriefed_at is not None

    @property
    def withdrawn(self) -> bool:
        return self.withdrawn_at is not None or self.withdrawal_requested_at is not None


def standing_of(
    subject: str,
    consents: Sequence[ConsentRecord],
    events: Sequence[DisclosureEvent],
    tombstone: Tombstone | None = None,
) -> Standing:
    """Fold a participant's events (in the order appended) into their standing."""
    standing = Standing(subject=subject, consent=latest_consent(consents))
    for event in events:
        if event.kind is DisclosureKind.PRE_SESSION_NOTICE:
            standing.notified_at = standing.notified_at or event.at
        elif event.kind is DisclosureKind.DEBRIEFED:
            standing.debriefed_at = standing.debriefed_at or event.at
        elif event.kind is DisclosureKind.RECONSENT_GRANTED:
            standing.reconsent = "granted"
        elif event.kind is DisclosureKind.RECONSENT_REFUSED:
            standing.reconsent = "refused"
        elif event.kind is DisclosureKind.WITHDRAWAL_REQUESTED:
            standing.withdrawal_requested_at = standing.withdrawal_requested_at or event.at
        elif event.kind is DisclosureKind.DELETION_COMPLETED:
            standing.withdrawn_at = standing.withdrawn_at or event.at
    if tombstone is not None:
        standing.withdrawn_at = standing.withdrawn_at or tombstone.withdrawn_at
    return standing


def standings(
    consents: Sequence[ConsentRecord],
    events: Sequence[DisclosureEvent],
    tombstones: Sequence[Tombstone] = (),
) -> dict[str, Standing]:
    """The standing of every subject that has a consent, an event or a tombstone."""
    by_subject_consents: dict[str, list[ConsentRecord]] = {}
    by_subject_events: dict[str, list[DisclosureEvent]] = {}
    for consent in consents:
        by_subject_consents.setdefault(consent.subject, []).append(consent)
    for event in events:
        by_subject_events.setdefault(event.subject, []).append(event)
    graves = {t.subject: t for t in tombstones}
    subjects = set(by_subject_consents) | set(by_subject_events) | set(graves)
    return {
        subject: standing_of(
            subject,
            by_subject_consents.get(subject, []),
            by_subject_events.get(subject, []),
            graves.get(subject),
        )
        for subject in subjects
    }


def needs_debrief(study: Study) -> bool:
    """Whether the study owes its participants a debriefing (a deceptive design)."""
    return study.study.deception != "none" and study.study.debrief.policy != "none"


def debrief_deadline(study: Study, last_task_at: datetime) -> datetime | None:
    """When the debrief is due, given the last task that counts for the policy."""
    if not needs_debrief(study):
        return None
    return last_task_at + timedelta(days=study.study.debrief.deadline_days)


def disclose(record: Record, standing: Standing | None) -> Record:
    """A copy of `record` whose disclosure fields follow from `standing`."""
    if standing is None:
        return record.model_copy(update={"debriefed": False, "debriefed_at": None})
    return record.model_copy(
        update={
            "debriefed": standing.debriefed,
            "debriefed_at": standing.debriefed_at,
            "withdrawn": standing.withdrawn,
        }
    )
