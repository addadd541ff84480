"""One export, start to finish: check the rules, select, write, describe, hash, audit.

The export is written to a hidden folder beside `out` and renamed into place
at the end, so a refused or failed export leaves nothing half-written, and a
finished one always has its data, its dataset card and its manifest together.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import woz
from woz.export.card import CardFacts, render_card
from woz.export.formats import WRITERS, audio_path
from woz.export.manifest import Manifest, hash_files
from woz.export.selection import (
    INCLUDABLE,
    ExportRefused,
    Selection,
    check_debriefs,
    check_provenance,
    check_purpose,
    participant_exclusion,
    select,
)
from woz.export.survey import SURVEY_WRITERS, SurveyData
from woz.models.pseudonyms import tombstone_of
from woz.models.record import Record
from woz.models.research import Tombstone
from woz.models.study import Study
from woz.research.disclosure import Standing, standings
from woz.research.ledger import EPOCH, LaborLedger, compute_ledger
from woz.research.operators import latest_by_operator
from woz.research.service import definition_json
from woz.store.base import Store

FORMATS = (*WRITERS, *SURVEY_WRITERS)


def _check_request(fmt: str, include: Sequence[str], out: Path) -> None:
    if fmt not in FORMATS:
        raise ExportRefused(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    unknown = [name for name in include if name not in INCLUDABLE]
    if unknown:
        raise ExportRefused(f"--include takes {', '.join(INCLUDABLE)}, not {', '.join(unknown)}")
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ExportRefused(f"{out} already exists and is not an empty folder; choose a new one")


async def export_dataset(
    store: Store,
    study: Study,
    fmt: str,
    purpose: str,
    out: Path,
    include: Sequence[str] = (),
    now: datetime | None = None,
) -> Manifest:
    """Write the export to `out` and return its manifest; `ExportRefused` if a rule forbids it."""
    now = now or datetime.now(UTC)
    _check_request(fmt, include, out)
    check_purpose(study, purpose)
    records = await store.list_records(study.id)
    tombstones = await store.list_tombstones(study.id)
    known = standings(
        await store.list_consents(study.id), await store.list_disclosures(study.id), tombstones
    )
    check_debriefs(study, records, known, now)
    operators = latest_by_operator(await store.list_operator_consents(study.id))
    selection = select(study, records, known, operators, purpose, include)
    check_provenance([row.record for row in selection.rows])
    ledger = compute_ledger(
        study.id, study.labor, await store.list_presence(study.id), records, EPOCH, now
    )
    trained = frozenset(t.operator for t in await store.list_operator_training(study.id))
    audio = await _kept_audio(store, fmt, selection)
    survey = None
    if fmt in SURVEY_WRITERS:
        survey = await _survey_data(store, study, selection, known, purpose)
    manifest = _write(
        study, fmt, purpose, out, selection, tombstones, ledger, now, trained, audio, survey
    )
    manifest_hash = hashlib.sha256((out / "manifest.json").read_bytes()).hexdigest()
    await store.append_audit(
        study.id,
        "cli",
        "export.created",
        None,
        {
            "format": fmt,
            "purpose": purpose,
            "records": manifest.records,
            "manifest_sha256": manifest_hash,
        },
    )
    return manifest


async def _survey_data(
    store: Store,
    study: Study,
    selection: Selection,
    known: dict[str, Standing],
    purpose: str,
) -> SurveyData:
    """Answers and feedback of the participants an export may include; the others are
    counted in the selection's exclusions (`questionnaire:<reason>`)."""

    def allowed(participant: str) -> bool:
        reason = participant_exclusion(study, known.get(tombstone_of(participant)), purpose)
        if reason is not None:
            selection.exclusions[f"questionnaire:{reason}"] += 1
        return reason is None

    answers = [a for a in await store.list_answers(study.id) if allowed(a.participant)]
    kept = {s.record.id for s in selection.rows}
    feedback = [f for f in await store.list_feedback(study.id) if f.record_id in kept]
    reads = {r: at for r, at in (await store.list_reads(study.id)).items() if r in kept}
    return SurveyData(study, selection.rows, answers, feedback, reads)


def _write(
    study: Study,
    fmt: str,
    purpose: str,
    out: Path,
    selection: Selection,
    tombstones: Sequence[Tombstone],
    ledger: LaborLedger,
    now: datetime,
    trained: frozenset[str],
    audio: dict[str, Path],
    survey: SurveyData | None = None,
) -> Manifest:
    staging = out.parent / f".{out.name}.partial"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        if survey is not None:
            file_rows, skipped, written = SURVEY_WRITERS[fmt](survey, staging)
        else:
            file_rows, skipped, written = WRITERS[fmt](selection.rows, staging)
        for relative, source in audio.items():
            (staging / relative).parent.mkdir(exist_ok=True)
            shutil.copyfile(source, staging / relative)
        exclusions = selection.exclusions + skipped
        deleted = sum(t.records_deleted for t in tombstones)
        if deleted:  # their records are gone; the count is what remains of them
            exclusions["withdrawn"] += deleted
        manifest = _manifest(
            study, fmt, purpose, now, written, exclusions, selection, tombstones, trained
        )
        facts = _facts(written, next(iter(file_rows)), audio)
        (staging / "README.md").write_text(render_card(study, manifest, facts, ledger), "utf-8")
        manifest.files = hash_files(staging, file_rows)
        (staging / "manifest.json").write_text(manifest.model_dump_json(indent=2) + "\n", "utf-8")
        if out.exists():
            out.rmdir()  # checked empty before anything was read
        staging.rename(out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return manifest


async def _kept_audio(store: Store, fmt: str, selection: Selection) -> dict[str, Path]:
    """The recordings an hf export carries beside its data: the kept input audio of the
    exported voice turns, by their path in the export."""
    if fmt != "hf":
        return {}
    found: dict[str, Path] = {}
    for row in selection.rows:
        relative = audio_path(row.record)
        voice = row.record.voice
        if relative is None or voice is None or voice.input_audio is None:
            continue
        source = await store.media_file(voice.input_audio)
        if source is not None:
            found[relative] = source
    return found


def _manifest(
    study: Study,
    fmt: str,
    purpose: str,
    now: datetime,
    written: list[Record],
    exclusions: Counter[str],
    selection: Selection,
    tombstones: Sequence[Tombstone],
    trained: frozenset[str],
) -> Manifest:
    redactions: Counter[str] = Counter()
    operators = {r.operator for r in written if r.operator}
    for record in written:
        redactions.update(record.redactions)
    return Manifest(
        woz_version=woz.__version__,
        study_id=study.id,
        study_title=study.title,
        definition_sha256=hashlib.sha256(definition_json(study).encode()).hexdigest(),
        format=fmt,
        purpose=purpose,
        created_at=now,
        license=study.study.data_license,
        permitted_uses=list(study.study.permitted_uses),
        deception=study.study.deception,
        records=len(written),
        participants=len({r.participant for r in written if r.participant}),
        operators=len(operators),
        operators_trained=len(operators & trained),
        operators_consented=len(operators & selection.consenting_operators),
        produced_by=dict(Counter(r.produced_by.value for r in written if r.produced_by)),
        exclusions=dict(exclusions),
        included_on_request=dict(selection.included_on_request),
        withdrawn_participants=len(tombstones),
        tombstones=[t.subject for t in tombstones],
        redactions=dict(redactions),
    )


def _facts(written: list[Record], data_file: str, audio: dict[str, Path]) -> CardFacts:
    participants = {r.participant: r for r in written if r.participant}
    voiced = [r.voice for r in written if r.voice is not None]
    return CardFacts(
        data_file=data_file,
        presented_as=dict(Counter(r.presented_as for r in written)),
        debriefed_participants=sum(1 for r in participants.values() if r.debriefed),
        consented_participants=len({r.participant for r in written if r.consent_id}),
        voice_turns=len(voiced),
        audio_files=len(audio),
        voices=dict(Counter(f"{v.engine}:{v.voice}" for v in voiced if v.engine)),
    )


def load_definition(text: str) -> Study:
    """A study definition as `keep_definition` stored it."""
    return Study.model_validate(json.loads(text))
