"""The dataset card (`README.md`), generated from the export itself, never a template.

YAML front matter in the Hugging Face dataset card format (license, creators,
task categories, tags, the data file), with a `woz` block of counts taken
from the manifest; then the sections a reader needs to judge the data: how it
was made (Wizard-of-Oz: people impersonating an AI), what participants were
told and when, their consent and its scopes, who the operators were and how
they were paid (from the labor ledger), what was redacted, and counts by
provenance and by reason of exclusion. It answers the questions of Datasheets
for Datasets and CrowdWorkSheets that an export can answer.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from woz.export.manifest import Manifest
from woz.models.study import Study
from woz.research.ledger import LaborLedger

_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def yaml_block(value: Mapping[str, Any], indent: int = 0) -> str:
    """Block-style YAML for JSON-like data; strings are JSON-quoted (valid YAML)."""
    lines: list[str] = []
    pad = " " * indent
    for key, item in value.items():
        name = key if _PLAIN_KEY.match(key) else json.dumps(key)
        if isinstance(item, Mapping) and item:
            lines.append(f"{pad}{name}:\n{yaml_block(item, indent + 2)}")
        elif isinstance(item, list) and item:
            lines.append(f"{pad}{name}:")
            for entry in item:
                if isinstance(entry, Mapping):  # "- first: ..." then the rest aligned
                    lines.append(f"{pad}  - " + yaml_block(entry, indent + 4)[indent + 4 :])
                else:
                    lines.append(f"{pad}  - {_scalar(entry)}")
        else:
            lines.append(f"{pad}{name}: {_scalar(item)}")
    return "\n".join(lines)


def _scalar(value: Any) -> str:
    if isinstance(value, Mapping):
        return "{}"
    if isinstance(value, list):
        return "[]"
    return json.dumps(value, ensure_ascii=False)


def size_category(n: int) -> str:
    for limit, label in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K")):
        if n < limit:
            return label
    return "100K<n<1M" if n < 1_000_000 else "n>1M"


@dataclass(frozen=True)
class CardFacts:
    """What the card says beyond the manifest: counts over the exported rows."""

    data_file: str
    presented_as: dict[str, int]
    debriefed_participants: int
    consented_participants: int
    voice_turns: int = 0
    audio_files: int = 0
    voices: dict[str, int] = field(default_factory=dict)


def _training(manifest: Manifest) -> str:
    """What is known of the operators' training and of their errors."""
    flagged = manifest.exclusions.get("wizard_error", 0)
    kept = manifest.included_on_request.get("wizard_error", 0)
    errors = (
        f"{kept} row(s) of this export were flagged as wizard errors (see `wizard_error`)"
        if kept
        else "no row of this export was flagged as a wizard error"
    )
    return (
        f"Training: {manifest.operators_trained} of the {manifest.operators} operator(s) in this "
        f"export have a recorded training. Errors: {errors}; {flagged} flagged row(s) were "
        "left out."
    )


def _reuse(study: Study, manifest: Manifest) -> str:
    """What the operators agreed to about the reuse of their text."""
    labor = study.labor
    if not labor.reuse_agreement.text.strip():
        return "The study had no reuse agreement for operators to consent to."
    required = "required" if labor.reuse_consent_required else "asked for, not required"
    return (
        f"Operators' consent to the reuse of their text (agreement version "
        f"{labor.reuse_agreement.version}) was {required}: {manifest.operators_consented} of the "
        f"{manifest.operators} operator(s) in this export recorded one covering "
        f"**{manifest.purpose}**; text of operators whose consent leaves it out is excluded."
    )


def front_matter(study: Study, manifest: Manifest, facts: CardFacts) -> dict[str, Any]:
    produced = manifest.produced_by
    language_creators = ["crowdsourced"]  # the participants' own words
    if produced.get("human", 0) or produced.get("human_edited_model_draft", 0):
        language_creators.append("expert-generated")  # trained operators wrote the answers
    if produced.get("model", 0) or produced.get("human_edited_model_draft", 0):
        language_creators.append("machine-generated")
    return {
        "pretty_name": study.title,
        "license": manifest.license.lower(),
        "annotations_creators": ["expert-generated"],
        "language_creators": language_creators,
        "task_categories": ["text-generation"],
        "size_categories": [size_category(manifest.records)],
        "tags": ["wizard-of-oz", "human-generated", "conversational", "woz"],
        "configs": [
            {"config_name": "default", "data_files": [{"split": "train", "path": facts.data_file}]}
        ],
        "woz": {
            "study": manifest.study_id,
            "format": manifest.format,
            "purpose": manifest.purpose,
            "records": manifest.records,
            "participants": manifest.participants,
            "operators": manifest.operators,
            "produced_by": dict(manifest.produced_by),
            "exclusions": dict(manifest.exclusions),
            "withdrawn_participants": manifest.withdrawn_participants,
            "deception": manifest.deception,
            "irb_protocol": study.study.irb_protocol,
            "permitted_uses": list(manifest.permitted_uses),
        },
    }


def _table(counts: Mapping[str, int], what: str) -> str:
    if not counts:
        return f"None ({what}: 0).\n"
    rows = "".join(f"| `{key}` | {value} |\n" for key, value in sorted(counts.items()))
    return f"| {what} | count |\n|---|---|\n{rows}"


def _money(value: float | None, currency: str) -> str:
    return "n/a" if value is None else f"{value:.2f} {currency}/h"


def _audio(study: Study, manifest: Manifest, facts: CardFacts) -> str:
    """Which recordings of participants' voices the export carries, and on what consent."""
    s = study.study
    if study.voice.keep_audio:
        kept = (
            f"The study kept participants' recorded speech (`[voice] keep_audio = true`); "
            f"consent text version {s.consent.version} names audio recording, and "
            f"consent was {'required' if s.consent_required else 'not required'} before "
            "taking part. "
        )
    else:
        kept = (
            "The study did not keep participants' recorded speech (`[voice] keep_audio = "
            "false`): each utterance was heard by the wizard and deleted once answered. "
        )
    where = (
        f"This export carries {facts.audio_files} recording(s) as WAV files (PCM16, 24 kHz, "
        "mono) in `audio/`, named by the `audio` column (an Audio feature: "
        '`dataset.cast_column("audio", datasets.Audio())`). '
        if manifest.format == "hf"
        else "Only the `hf` format carries the recordings. "
    )
    spoken = ", ".join(f"`{name}` ({n})" for name, n in sorted(facts.voices.items()))
    return (
        "## Audio\n\n"
        f"{facts.voice_turns} row(s) are spoken turns (the OpenAI Realtime API). {kept}{where}"
        "`input_transcript` is the wizard's transcript of what was said. The spoken answers "
        "are not included: a speech engine said the wizard's text (the `answer`) "
        f"with {spoken or 'no voice'}; `voice` gives, per row, the engine and voice, the time "
        "from the end of the participant's speech to the first audio, and interruptions. "
        "Withdrawal deleted a participant's recordings with their records.\n"
    )


def render_card(study: Study, manifest: Manifest, facts: CardFacts, ledger: LaborLedger) -> str:
    s = study.study
    presented = ", ".join(f"{n} as {kind}" for kind, n in sorted(facts.presented_as.items()))
    deception = {
        "none": "None: participants were told that people write the answers.",
        "partial": "Partial: participants were told they were using an AI system; "
        "people wrote (or edited) the answers.",
        "concealed": "Concealed: participants were not told that the study was about "
        "how they talk to an AI system, nor that people wrote the answers.",
    }[s.deception]
    pays = ledger.effective_hourly_stats()
    labor = study.labor
    unit = "hour of paid time" if labor.pay_unit == "hour" else "task answered"
    redact = ", ".join(study.privacy.redact) or "nothing"
    sections = [
        f"# {study.title}\n\n{s.description or 'A Wizard-of-Oz dataset made with woz.'}\n",
        "## How the data was made\n\n"
        "This is **Wizard-of-Oz** data: people impersonating an AI system. Participants used "
        "an app that presented itself as an AI, while people (operators, or *wizards*) "
        "wrote the answers in real time, sometimes starting from a model's draft. Every row "
        "says who produced its answer (`produced_by`) and how it was presented to the "
        f"participant (`presented_as`: "
        f"{presented or 'no rows'}). Model-written text is marked `synthetic`.\n",
        "## Deception and debriefing\n\n"
        f"- Deception: {deception}\n"
        f"- Justification: {s.deception_justification or 'not applicable'}\n"
        f"- Ethics approval (IRB protocol): {s.irb_protocol or 'none given'}\n"
        f"- Debrief: policy `{s.debrief.policy}`, within {s.debrief.deadline_days} days; "
        f"re-consent after debrief {'required' if s.debrief.reconsent_required else 'not required'}"
        f"; {facts.debriefed_participants} exported participant(s) debriefed.\n",
        "## Consent and permitted uses\n\n"
        f"- Consent required before taking part: {'yes' if s.consent_required else 'no'}; "
        f"consent text version {s.consent.version}; "
        f"{facts.consented_participants} exported participant(s) with a recorded consent.\n"
        f"- Permitted uses: {', '.join(manifest.permitted_uses)}. This export was made for "
        f"**{manifest.purpose}**; rows whose consent does not cover it are excluded.\n"
        f"- License: {manifest.license}.\n"
        f"- Withdrawal: participants may withdraw at any time; {manifest.withdrawn_participants} "
        "did, and their data was deleted before this export. The manifest lists their "
        "tombstones (SHA-256 of the pseudonym): delete matching rows from older copies.\n",
        "## Who are the annotators?\n\n"
        f"{manifest.operators} operator(s), named in the data only by a per-study pseudonym. "
        f"Pay: {labor.pay_rate:.2f} {labor.currency} per {unit}; pay floor "
        f"{labor.pay_floor:.2f} {labor.currency}/h. All time available for tasks counts as "
        "paid time. Effective hourly pay over paid time: median "
        f"{_money(pays['median'], labor.currency)}, lowest {_money(pays['min'], labor.currency)}"
        f", over {ledger.paid_hours:.2f} paid hours; {len(ledger.alerts)} operator(s) below the "
        f"floor. {_training(manifest)} {_reuse(study, manifest)}\n",
        "## Personal and Sensitive Information\n\n"
        f"Before an operator saw a message, woz replaced {redact} with typed placeholders such "
        "as `[EMAIL_1]` (redactions in this export: "
        f"{json.dumps(manifest.redactions) if manifest.redactions else 'none'}). The text "
        f"{'was kept raw in the records' if study.privacy.keep_raw else 'is the redacted text'}. "
        "Redaction is best-effort: names, addresses and unusual spellings are not caught. "
        "Participants appear only as pseudonyms (an HMAC with a secret of the study).\n",
        *([_audio(study, manifest, facts)] if facts.voice_turns else []),
        "## Provenance counts\n\n" + _table(manifest.produced_by, "produced_by"),
        "## Exclusions\n\n" + _table(manifest.exclusions, "reason"),
        "## Fields\n\nEvery row carries the record's provenance and disclosure fields "
        "(`record_id`, `produced_by`, `synthetic`, `operator`, `participant`, `consent_id`, "
        "`presented_as`, `deception`, `debriefed`, `withdrawn`, `permitted_uses`, `license`, "
        "timings and `status`, and more): see `manifest.json` for file hashes.\n",
    ]
    matter = yaml_block(front_matter(study, manifest, facts))
    return f"---\n{matter}\n---\n\n" + "\n".join(sections)
