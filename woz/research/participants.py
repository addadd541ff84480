"""What can happen to a participant: consent, notice, debrief, re-consent, withdrawal.

One service used by every door (the `/woz/` API, the participant page, the
command line and the admission step), so each action is validated, recorded
as an append-only event and audited the same way whoever asks. Participants
are named here by pseudonym; `pseudonym_of` turns an app's external id into one.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime

from pydantic import BaseModel

from woz.media.files import MEDIA_URL_PREFIX, MediaFolder
from woz.models.pseudonyms import pseudonym, tombstone_of
from woz.models.research import ConsentRecord, DisclosureEvent, DisclosureKind, Tombstone
from woz.models.study import PermittedUse, Study
from woz.models.task import new_id
from woz.research.consent import ConsentGrant, ConsentRefused, check_grant, consent_text_sha256
from woz.research.consent import text_sha256 as sha256_of_text
from woz.research.disclosure import Standing, debrief_deadline, needs_debrief, standing_of
from woz.store.base import Store


class ParticipantStatus(BaseModel):
    """What an app (or the participant page) may know about a participant's standing."""

    participant: str
    study: str
    withdrawn: bool
    withdrawn_at: datetime | None
    consent_required: bool
    consent: ConsentRecord | None
    consent_current: bool
    notified_at: datetime | None
    debrief_required: bool
    debriefed: bool
    debriefed_at: datetime | None
    debrief_deadline: datetime | None
    reconsent_required: bool
    reconsent: str | None


class NotAllowed(Exception):
    """An action that the participant's standing does not allow (say, after withdrawal)."""


class Participants:
    """The research actions on one study's participants."""

    def __init__(
        self, store: Store, study: Study, secret: bytes, media: MediaFolder | None = None
    ) -> None:
        self._store = store
        self._study = study
        self._secret = secret
        self._media = media

    @property
    def study(self) -> Study:
        return self._study

    def pseudonym_of(self, external_id: str) -> str:
        """The pseudonym woz gives the app's id `external_id` (the same as the API's)."""
        return pseudonym(self._secret, "p", external_id)

    def page_token(self, participant: str) -> str:
        """The secret part of the participant's own page link: pseudonym and signature."""
        return f"{participant}.{self._signature(participant)}"

    def participant_of_token(self, token: str) -> str | None:
        """The pseudonym a page token was made for, or None if it is not genuine."""
        participant, _, signature = token.rpartition(".")
        if not participant or not hmac.compare_digest(signature, self._signature(participant)):
            return None
        return participant

    def _signature(self, participant: str) -> str:
        message = f"participant-page:{participant}".encode()
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()[:32]

    async def standing(self, participant: str) -> Standing:
        subject = tombstone_of(participant)
        study_id = self._study.id
        return standing_of(
            subject,
            await self._store.list_consents(study_id, subject),
            await self._store.list_disclosures(study_id, subject),
            await self._store.tombstone(study_id, subject),
        )

    async def status(self, participant: str) -> ParticipantStatus:
        standing = await self.standing(participant)
        study = self._study.study
        deadline = None
        if needs_debrief(self._study) and not standing.withdrawn:
            whose = participant if study.debrief.policy == "end_of_session" else None
            last = await self._store.last_task_at(self._study.id, whose)
            deadline = debrief_deadline(self._study, last) if last else None
        consent = standing.consent
        return ParticipantStatus(
            participant=participant,
            study=self._study.id,
            withdrawn=standing.withdrawn,
            withdrawn_at=standing.withdrawn_at,
            consent_required=study.consent_required,
            consent=None if standing.withdrawn else consent,
            consent_current=consent is not None and consent.version == study.consent.version,
            notified_at=standing.notified_at,
            debrief_required=needs_debrief(self._study),
            debriefed=standing.debriefed,
            debriefed_at=standing.debriefed_at,
            debrief_deadline=deadline,
            reconsent_required=study.debrief.reconsent_required,
            reconsent=standing.reconsent,
        )

    async def known(self, participant: str) -> bool:
        """Whether woz holds anything under the pseudonym: a task seen, a record, a
        consent, a disclosure event or a withdrawal. A mistyped id holds nothing."""
        study_id = self._study.id
        subject = tombstone_of(participant)
        return bool(
            await self._store.participant_seen(study_id, participant)
            or await self._store.tombstone(study_id, subject)
            or await self._store.list_consents(study_id, subject)
            or await self._store.list_disclosures(study_id, subject)
            or await self._store.last_task_at(study_id, participant)
        )

    async def consent(
        self, participant: str, grant: ConsentGrant, actor: str, **context: str
    ) -> ConsentRecord:
        """Record a consent; `ConsentRefused` if it does not match the study's text.
        `context` goes into the audit entry (the platform's session id, say)."""
        standing = await self._usable(participant)
        version, scopes = check_grant(self._study, grant)
        record = ConsentRecord(
            id=new_id("consent_", 10),
            study_id=self._study.id,
            subject=standing.subject,
            version=version,
            text_sha256=consent_text_sha256(self._study),
            method=grant.method,
            scopes=scopes,
            granted_at=datetime.now(UTC),
        )
        await self._store.add_consent(record)
        await self._audit(
            actor,
            "consent.granted",
            standing.subject,
            consent_id=record.id,
            version=version,
            method=grant.method,
            scopes=list(scopes),
            **context,
        )
        return record

    async def notice(self, participant: str, actor: str) -> DisclosureEvent:
        """The participant was shown the pre-session notice (the study's consent text)."""
        standing = await self._usable(participant)
        return await self._event(
            standing.subject,
            DisclosureKind.PRE_SESSION_NOTICE,
            actor,
            consent_text_sha256(self._study),
        )

    async def debrief(
        self, participant: str, actor: str, shown: str | None = None
    ) -> DisclosureEvent:
        """The participant was shown the debrief: `shown` when the door showed more than
        the study's debrief text (the chat page's, `woz.research.debrief`); the event
        records the SHA-256 of what was shown."""
        standing = await self._usable(participant)
        text = self._study.study.debrief.text if shown is None else shown
        return await self._event(
            standing.subject, DisclosureKind.DEBRIEFED, actor, sha256_of_text(text)
        )

    async def reconsent(
        self, participant: str, granted: bool, scopes: list[PermittedUse] | None, actor: str
    ) -> DisclosureEvent:
        """After the debrief, the participant agreed (perhaps to fewer uses) or refused."""
        standing = await self._usable(participant)
        if not standing.debriefed:
            raise NotAllowed("re-consent follows the debrief: debrief the participant first")
        if granted:
            grant = ConsentGrant(method="reconsent_after_debrief", scopes=scopes)
            consent = await self.consent(participant, grant, actor)
            return await self._event(
                standing.subject,
                DisclosureKind.RECONSENT_GRANTED,
                actor,
                consent.text_sha256,
                consent_id=consent.id,
            )
        return await self._event(standing.subject, DisclosureKind.RECONSENT_REFUSED, actor, None)

    async def withdraw(self, participant: str, actor: str) -> Tombstone:
        """Delete the participant's content everywhere, keep only the tombstone.

        Idempotent: withdrawing twice returns the same tombstone. The events
        `withdrawal_requested` and `deletion_completed` bracket the deletion, so
        an interrupted withdrawal shows as requested but not completed.
        """
        subject = tombstone_of(participant)
        existing = await self._store.tombstone(self._study.id, subject)
        if existing is not None:
            return existing
        await self._event(subject, DisclosureKind.WITHDRAWAL_REQUESTED, actor, None)
        uploads = [
            part.url.removeprefix(MEDIA_URL_PREFIX)
            for record in await self._store.list_records(self._study.id, participant)
            for message in record.messages
            for part in message.content
            if part.url and part.url.startswith(MEDIA_URL_PREFIX)
        ]
        grave = await self._store.erase_participant(self._study.id, participant, datetime.now(UTC))
        if self._media is not None:
            for media_id in uploads:  # the participant's recorded voice goes with the records
                await self._media.delete(media_id)
        await self._event(
            subject,
            DisclosureKind.DELETION_COMPLETED,
            actor,
            None,
            records_deleted=grave.records_deleted,
        )
        return grave

    async def _usable(self, participant: str) -> Standing:
        standing = await self.standing(participant)
        if standing.withdrawn:
            raise NotAllowed("this participant has withdrawn; nothing more is recorded")
        return standing

    async def _event(
        self,
        subject: str,
        kind: DisclosureKind,
        actor: str,
        text_hash: str | None,
        **details: str | int,
    ) -> DisclosureEvent:
        event = DisclosureEvent(
            id=new_id("disc_", 10),
            study_id=self._study.id,
            subject=subject,
            kind=kind,
            at=datetime.now(UTC),
            text_sha256=text_hash,
            details=details,
        )
        await self._store.add_disclosure(event)
        await self._audit(actor, f"disclosure.{kind.value}", subject, event_id=event.id, **details)
        return event

    async def _audit(self, actor: str, action: str, subject: str, **details: object) -> None:
        await self._store.append_audit(self._study.id, actor, action, subject, dict(details))


__all__ = ["ConsentRefused", "NotAllowed", "ParticipantStatus", "Participants"]
