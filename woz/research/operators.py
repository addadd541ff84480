"""What a study keeps about its operators beyond their work: their consent to the
reuse of the text they write, their training, and the answers flagged as their errors.

Wizard-of-Oz studies rarely report wizard training or wizard error (Riek's
review); woz records both. A training is appended with its date and what it
was; a record a researcher finds to be a wizard error is flagged with why, and
exports leave it out unless asked for it.

ETHICS: an export must not serve a purpose outside the records' permitted uses
or the operators' consent. An operator's consent names the version and hash of
the study's reuse agreement (`[labor.reuse_agreement]`) and the uses granted, a
subset of the study's permitted uses. The latest consent is in force, so an
operator narrows or withdraws theirs by recording fewer uses, or none; the
earlier ones stay, append-only, as the audit trail. Operators are found by key
id or name and stored by their pseudonym, the one their records carry.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

from woz.models.keys import KeyInfo
from woz.models.pseudonyms import pseudonym
from woz.models.research import ConsentRecord, OperatorTraining
from woz.models.study import PermittedUse, Study
from woz.models.task import new_id
from woz.research.consent import ConsentRefused, granted_scopes, text_sha256
from woz.research.ledger import EPOCH, compute_ledger
from woz.store.base import Store

T = TypeVar("T")


class RecordRefused(Exception):
    """A consent, training or wizard-error flag that cannot be recorded as asked."""


class UnknownOperator(RecordRefused):
    """No operator key, or more than one, answers to the name given."""


class OperatorRecords:
    """Recording and reading one study's operator consents and trainings."""

    def __init__(self, store: Store, study: Study, secret: bytes) -> None:
        self._store = store
        self._study = study
        self._secret = secret

    def pseudonym_of(self, key: KeyInfo) -> str:
        """The operator's pseudonym in this study (as in records and exports)."""
        return pseudonym(self._secret, "op", key.id)

    async def operators(self) -> list[KeyInfo]:
        """The study's operator keys, oldest first."""
        keys = await self._store.list_keys(self._study.id)
        return [key for key in keys if key.role == "operator"]

    async def find(self, who: str) -> KeyInfo:
        """The operator key with id or name `who`; `UnknownOperator` if none or several."""
        matches = [key for key in await self.operators() if who in (key.id, key.name)]
        if len(matches) != 1:
            known = ", ".join(f"{k.id} ({k.name})" for k in await self.operators()) or "none"
            problem = "several operator keys are" if matches else "no operator key is"
            raise UnknownOperator(
                f"{problem} named {who!r} in study {self._study.id!r}; give the key id "
                f"(operators: {known})"
            )
        return matches[0]

    async def record(
        self,
        key: KeyInfo,
        scopes: Sequence[PermittedUse] | None,
        method: str,
        actor: str,
        version: str | None = None,
    ) -> ConsentRecord:
        """Record the operator's consent to the current reuse agreement for `scopes`
        (None: every use the study permits; empty: none, a withdrawal). A `version`
        given must be the current one: consent is to the text the operator read."""
        agreement = self._study.labor.reuse_agreement
        if not agreement.text.strip():
            raise ConsentRefused(
                f"study {self._study.id!r} has no reuse agreement for operators to consent "
                'to; add [labor.reuse_agreement] text = "..." to the study file and serve it'
            )
        if version is not None and version != agreement.version:
            raise ConsentRefused(
                f"the reuse agreement is now version {agreement.version!r}, not {version!r}; "
                "read it again"
            )
        consent = ConsentRecord(
            id=new_id("opconsent_", 10),
            study_id=self._study.id,
            subject=self.pseudonym_of(key),
            version=agreement.version,
            text_sha256=text_sha256(agreement.text),
            method=method,
            scopes=granted_scopes(self._study, scopes),
            granted_at=datetime.now(UTC),
        )
        await self._store.add_operator_consent(consent)
        await self._store.append_audit(
            self._study.id,
            actor,
            "operator_consent.granted",
            consent.subject,
            {"consent_id": consent.id, "version": consent.version, "scopes": consent.scopes},
        )
        return consent

    async def agreement_for(self, key: KeyInfo) -> dict[str, Any] | None:
        """What an operator's console shows: the study's reuse agreement, the uses it
        may grant, and the operator's consent in force (None without an agreement)."""
        agreement = self._study.labor.reuse_agreement
        if not agreement.text.strip():
            return None
        consent = (await self.in_force()).get(self.pseudonym_of(key))
        return {
            "version": agreement.version,
            "text": agreement.text.strip(),
            "uses": list(self._study.study.permitted_uses),
            "required": self._study.labor.reuse_consent_required,
            "consent": consent_summary(consent) if consent else None,
        }

    async def record_training(
        self, key: KeyInfo, trained_at: datetime, note: str, actor: str
    ) -> OperatorTraining:
        """Record that the operator was trained at `trained_at`; `note` says how."""
        if not note.strip():
            raise RecordRefused("say what the training was (--note), so the data card can")
        training = OperatorTraining(
            id=new_id("training_", 10),
            study_id=self._study.id,
            operator=self.pseudonym_of(key),
            trained_at=trained_at,
            note=note.strip(),
        )
        await self._store.add_operator_training(training)
        await self._store.append_audit(
            self._study.id,
            actor,
            "operator.trained",
            training.operator,
            {"training_id": training.id, "trained_at": trained_at.isoformat(), "note": note},
        )
        return training

    async def trainings(self) -> dict[str, OperatorTraining]:
        """The latest training of each operator trained, by pseudonym."""
        trainings = await self._store.list_operator_training(self._study.id)
        return _latest(trainings, lambda t: t.operator, lambda t: t.trained_at)

    async def report_own_error(self, key: KeyInfo, record_id: str, note: str) -> str:
        """The operator flags an answer of theirs as a wizard error; returns the note kept.

        Only their own answers: a record another operator (or a model) wrote is
        refused as unknown, so an operator learns nothing of others' records."""
        who = self.pseudonym_of(key)
        record = await self._store.get_record(record_id)
        if record is None or record.study_id != self._study.id or record.operator != who:
            raise RecordRefused(f"you sent no answer recorded as {record_id!r}")
        reported = f"reported by the operator: {note.strip()}"
        if record.wizard_error:  # a researcher's (or an earlier) note stays first
            reported = f"{record.wizard_error}; {reported}"
        await self.flag_wizard_error(record_id, reported, who)
        return reported

    async def flag_wizard_error(self, record_id: str, note: str | None, actor: str) -> None:
        """Flag a record of the study as a wizard error (`note`: why), or clear it (None)."""
        if note is not None and not note.strip():
            raise RecordRefused("say why the answer was a wizard error")
        if not await self._store.set_wizard_error(self._study.id, record_id, note):
            raise RecordRefused(f"study {self._study.id!r} has no record {record_id!r}")
        await self._store.append_audit(
            self._study.id,
            actor,
            "record.wizard_error" if note is not None else "record.wizard_error_cleared",
            None,
            {"record_id": record_id, "note": note},
        )

    async def work_of(self, key: KeyInfo) -> dict[str, Any]:
        """The operator's own line of the labor ledger, over the whole study so far,
        with the study's pay terms: what the console shows them (Fairwork: workers
        see their paid time and pay). Reads only their records (indexed)."""
        study = self._study
        now = datetime.now(UTC)
        who = self.pseudonym_of(key)
        records = await self._store.list_records(study.id, operator=who)
        presence = await self._store.list_presence(study.id)
        ledger = compute_ledger(study.id, study.labor, presence, records, EPOCH, now)
        mine = next((row for row in ledger.operators if row.operator == who), None)
        labor = study.labor
        return {
            "paid_s": mine.paid_s if mine else 0.0,
            "tasks_answered": mine.tasks_answered if mine else 0,
            "median_handle_s": mine.median_handle_s if mine else None,
            "earnings": mine.earnings if mine else 0.0,
            "effective_hourly": mine.effective_hourly if mine else None,
            "below_floor": mine.below_floor if mine else False,
            "currency": labor.currency,
            "pay_rate": labor.pay_rate,
            "pay_unit": labor.pay_unit,
            "pay_floor": labor.pay_floor,
        }

    async def in_force(self) -> dict[str, ConsentRecord]:
        """The latest consent of each operator who gave one, by pseudonym."""
        return latest_by_operator(await self._store.list_operator_consents(self._study.id))


def consent_summary(consent: ConsentRecord) -> dict[str, Any]:
    """A consent as the operator console shows it."""
    return {
        "version": consent.version,
        "scopes": consent.scopes,
        "granted_at": consent.granted_at.isoformat(),
    }


def latest_by_operator(consents: Sequence[ConsentRecord]) -> dict[str, ConsentRecord]:
    """Each operator's consent in force: their latest, by pseudonym."""
    return _latest(consents, lambda c: c.subject, lambda c: c.granted_at)


def _latest(
    items: Sequence[T], operator: Callable[[T], str], at: Callable[[T], datetime]
) -> dict[str, T]:
    latest: dict[str, T] = {}
    for item in sorted(items, key=at):
        latest[operator(item)] = item
    return latest
