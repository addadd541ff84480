"""The export rules on plain records: who is excluded, and what refuses the whole export."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.unit.records import T0, make_record
from woz.export.selection import (
    ExportRefused,
    check_debriefs,
    check_provenance,
    check_purpose,
    select,
)
from woz.models.pseudonyms import tombstone_of
from woz.models.record import Record
from woz.models.research import ConsentRecord, DisclosureEvent, DisclosureKind
from woz.models.study import Study
from woz.research.disclosure import standings
from woz.study import parse_study

DECEPTIVE = """\
[study]
id = "s"
title = "T"
deception = "partial"
irb_protocol = "IRB-3"
permitted_uses = ["in_study_analysis", "public_dataset_release"]
[study.debrief]
text = "People wrote the answers."
deadline_days = 7
reconsent_required = true
[[personas]]
id = "p"
"""


def record(participant: str | None, **changes: object) -> Record:
    return make_record(
        participant,
        deception="partial",
        permitted_uses=["in_study_analysis", "public_dataset_release"],
        **changes,
    )


def event(participant: str, kind: DisclosureKind) -> DisclosureEvent:
    return DisclosureEvent(
        id=f"e_{participant}_{kind}", study_id="s", subject=tombstone_of(participant),
        kind=kind, at=T0 + timedelta(days=1),
    )  # fmt: skip


def consent(participant: str, scopes: list[str]) -> ConsentRecord:
    return ConsentRecord.model_validate(
        {"id": f"c_{participant}", "study_id": "s", "subject": tombstone_of(participant),
         "version": "1", "text_sha256": "0" * 64, "method": "api", "scopes": scopes,
         "granted_at": T0}
    )  # fmt: skip


@pytest.fixture
def study() -> Study:
    return parse_study(DECEPTIVE)


def test_each_participant_is_excluded_for_its_own_reason(study: Study) -> None:
    """Debriefed and re-consented is in; each missing step is a named exclusion."""
    D, G, R = (
        DisclosureKind.DEBRIEFED,
        DisclosureKind.RECONSENT_GRANTED,
        DisclosureKind.RECONSENT_REFUSED,
    )
    known = standings(
        [consent("in", ["in_study_analysis", "public_dataset_release"]),
         consent("narrow", ["in_study_analysis"])],
        [event("in", D), event("in", G), event("narrow", D), event("narrow", G),
         event("refused", D), event("refused", R), event("silent", D),
         event("leaving", DisclosureKind.WITHDRAWAL_REQUESTED)],
    )  # fmt: skip
    records = [record(p) for p in ("in", "narrow", "refused", "silent", "waiting", "leaving")]
    records.append(record(None))
    chosen = select(study, records, known, {}, "public_dataset_release", include=[])
    assert [row.record.participant for row in chosen.rows] == ["in"]
    assert chosen.rows[0].record.debriefed is True
    assert chosen.exclusions == {
        "purpose_not_consented": 1,
        "reconsent_refused": 1,
        "reconsent_missing": 1,
        "awaiting_debrief": 1,
        "withdrawn": 1,
        "participant_unknown": 1,
    }


def test_purpose_outside_the_study_refuses_the_export(study: Study) -> None:
    with pytest.raises(ExportRefused, match="'commercial_use' is not a permitted use"):
        check_purpose(study, "commercial_use")


def test_overdue_debrief_refuses_and_a_debrief_clears_it(study: Study) -> None:
    """Seven days after the last task, an undebriefed participant blocks the export."""
    records = [record("ada")]
    check_debriefs(study, records, {}, T0 + timedelta(days=6))
    with pytest.raises(ExportRefused, match="1 participant"):
        check_debriefs(study, records, {}, T0 + timedelta(days=8))
    known = standings([], [event("ada", DisclosureKind.DEBRIEFED)])
    check_debriefs(study, records, known, T0 + timedelta(days=8))


def test_a_record_without_provenance_refuses_the_export() -> None:
    """An answer without produced_by, or a human answer without its operator, is refused."""
    with pytest.raises(ExportRefused, match="lost their provenance"):
        check_provenance([record("a", produced_by=None)])
    with pytest.raises(ExportRefused, match="rec_b"):
        check_provenance([record("b", operator=None)])
    check_provenance([record("c"), record("d", answer=None, produced_by=None)])
