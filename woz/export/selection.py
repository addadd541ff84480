"""Which records an export may contain: the refusals and the exclusions.

An export is **refused** (nothing is written) when:
- the purpose is not among the study's permitted uses;
- the study is deceptive and some participant is past the debrief deadline
  without having been debriefed (APA 8.07: no later than the end of data
  collection; they must have had the chance to withdraw);
- a record that would be exported has lost its provenance.

A record is **excluded** (and counted by reason in the manifest) when its
participant withdrew or asked to; when a deceptive study has not debriefed the
participant yet, or cannot (no participant id), or needs a re-consent that was
refused or not given; when the purpose is outside the record's permitted uses
or the participant's latest consent; when its operator's latest consent to the
reuse of their text leaves the purpose out, or (where the study requires that
consent) the operator gave none; and, unless `--include` names them, when
its client left (`client_gone`), nobody answered (`expired`), it was never
confirmed delivered (`answered`), its text is the study's `fallback`, or a
researcher flagged it as a `wizard_error`. Those
included on request are flagged in each row's `flags`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from woz.models.pseudonyms import tombstone_of
from woz.models.record import Record, RecordStatus
from woz.models.research import ConsentRecord
from woz.models.study import Study
from woz.models.task import ProducedBy
from woz.research.disclosure import Standing, debrief_deadline, disclose, needs_debrief

INCLUDABLE = ("client_gone", "expired", "answered", "fallback", "wizard_error")


class ExportRefused(Exception):
    """The export would break an ethics rule; the message says which and what to do."""


@dataclass
class Selected:
    """A record to export, with its disclosure derived and its flags."""

    record: Record
    flags: list[str] = field(default_factory=list)


@dataclass
class Selection:
    rows: list[Selected]
    exclusions: Counter[str]
    included_on_request: Counter[str]
    consenting_operators: frozenset[str] = frozenset()  # pseudonyms with a consent in force


def check_purpose(study: Study, purpose: str) -> None:
    permitted = list(study.study.permitted_uses)
    if purpose not in permitted:
        raise ExportRefused(
            f"purpose {purpose!r} is not a permitted use of study {study.id!r} "
            f"(permitted: {', '.join(permitted)}); the participants did not agree to it"
        )


def check_debriefs(
    study: Study, records: Sequence[Record], standings: dict[str, Standing], now: datetime
) -> None:
    """Refuse while any participant of a deceptive study is overdue for their debrief."""
    if not needs_debrief(study) or not records:
        return
    last_of: dict[str, datetime] = {}
    for record in records:
        if record.participant is not None:
            at = record.timings.received_at
            last_of[record.participant] = max(last_of.get(record.participant, at), at)
    study_last = max(r.timings.received_at for r in records)
    overdue = []
    for participant, last in sorted(last_of.items()):
        standing = standings.get(tombstone_of(participant))
        if standing is not None and (standing.debriefed or standing.withdrawn):
            continue
        basis = last if study.study.debrief.policy == "end_of_session" else study_last
        deadline = debrief_deadline(study, basis)
        if deadline is not None and now > deadline:
            overdue.append(participant)
    if overdue:
        shown = ", ".join(overdue[:5]) + (" ..." if len(overdue) > 5 else "")
        raise ExportRefused(
            f"{len(overdue)} participant(s) of deceptive study {study.id!r} are past their "
            f"debrief deadline ({study.study.debrief.deadline_days} days) and not debriefed "
            f"({shown}); debrief them (the /woz/ API, the participant page or "
            "`woz participants debrief`) before exporting"
        )


def check_provenance(records: Sequence[Record]) -> None:
    broken = [
        record.id
        for record in records
        if record.answer is not None
        and (
            record.produced_by is None
            or not record.license
            or not record.permitted_uses
            or (record.produced_by in _HUMAN and record.operator is None)
        )
    ]
    if broken:
        raise ExportRefused(
            f"{len(broken)} record(s) have lost their provenance ({', '.join(broken[:5])}); "
            "woz will not export a row without saying who produced it"
        )


_HUMAN = (ProducedBy.HUMAN, ProducedBy.HUMAN_EDITED_MODEL_DRAFT)


def participant_exclusion(study: Study, standing: Standing | None, purpose: str) -> str | None:
    """Why nothing of this participant may be exported for `purpose`, or None: the rules
    that depend on the person (withdrawal, debrief, re-consent, consent), not the record."""
    if standing is not None and standing.withdrawn:
        return "withdrawn"
    if needs_debrief(study):
        if standing is None or not standing.debriefed:
            return "awaiting_debrief"
        if study.study.debrief.reconsent_required and standing.reconsent != "granted":
            return "reconsent_refused" if standing.reconsent == "refused" else "reconsent_missing"
    consent = standing.consent if standing else None
    if consent is not None and purpose not in consent.scopes:
        return "purpose_not_consented"
    if study.study.consent_required and consent is None:
        return "no_consent"
    return None


def _exclusion(
    record: Record,
    study: Study,
    standing: Standing | None,
    operator_consent: ConsentRecord | None,
    purpose: str,
) -> str | None:
    """Why the record may not be exported, or None."""
    if needs_debrief(study) and record.participant is None:
        return "participant_unknown"
    if purpose not in record.permitted_uses and not (standing and standing.withdrawn):
        return "purpose_not_permitted"
    reason = participant_exclusion(study, standing, purpose)
    if reason is not None:
        return reason
    if record.operator is not None:  # a person wrote (or edited) the text
        if operator_consent is not None and purpose not in operator_consent.scopes:
            return "operator_did_not_consent"
        if operator_consent is None and study.labor.reuse_consent_required:
            return "operator_consent_missing"
    return None


def _soft_reason(record: Record) -> str | None:
    if record.produced_by is ProducedBy.FALLBACK:
        return "fallback"
    if record.status is not RecordStatus.DELIVERED:
        return record.status.value
    if record.wizard_error is not None:
        return "wizard_error"
    return None


def select(
    study: Study,
    records: Sequence[Record],
    standings: dict[str, Standing],
    operator_consents: dict[str, ConsentRecord],
    purpose: str,
    include: Sequence[str],
) -> Selection:
    """The records to export with their disclosure derived, and what was left out, why.

    `operator_consents` holds each operator's consent in force, by pseudonym."""
    rows: list[Selected] = []
    exclusions: Counter[str] = Counter()
    on_request: Counter[str] = Counter()
    for record in records:
        standing = standings.get(tombstone_of(record.participant)) if record.participant else None
        operator_consent = operator_consents.get(record.operator) if record.operator else None
        reason = _exclusion(record, study, standing, operator_consent, purpose)
        if reason is not None:
            exclusions[reason] += 1
            continue
        soft = _soft_reason(record)
        flags = []
        if soft is not None:
            if soft not in include:
                exclusions[soft] += 1
                continue
            on_request[soft] += 1
            flags.append(f"included_on_request:{soft}")
        rows.append(Selected(disclose(record, standing), flags))
    consenting = frozenset(
        row.record.operator for row in rows if row.record.operator in operator_consents
    )
    return Selection(rows, exclusions, on_request, consenting)
