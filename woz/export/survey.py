"""The formats for analysing a study: `transcripts` and `questionnaires`, CSV and Parquet.

- `transcripts`: one row per message. A record contributes the turns new since
  the previous record of its conversation, then its answer (`is_answer`); each
  row has the participant's pseudonym, the `session` (conversation id), the arm,
  `role`, `text`, `sent_at` (a participant's turn: when its request arrived; the
  answer: when it was delivered, else answered), `read_at` (an answer: when the
  participant's page showed it whole, in view), the participant's thumb on the
  answer (`rating` +1 / -1 and `feedback_comment`, on answer rows only), and
  every provenance field of the record (`produced_by`, `operator`, timings...).
- `questionnaires`: one row per participant who answered any questionnaire:
  `participant`, `arm`, then for each questionnaire of the study, in the study's
  order, `<questionnaire>.<item>` per item, `<questionnaire>.submitted_at`, and
  the instrument's scores (`sus.score`, ...). Join it to the transcripts on
  `participant`.

The same rules as every export: answers exist only for participants who have not
withdrawn (withdrawal erases them), and a participant whose records an export
would exclude for who they are (no consent, consent not covering the purpose,
awaiting the debrief of a deceptive study, re-consent refused) is left out here
too, counted in the manifest's exclusions.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from woz.export.formats import new_turns
from woz.export.rows import PROVENANCE_FIELDS, check_row, flat_turn, provenance
from woz.export.selection import Selected
from woz.export.tables import Row, write_table
from woz.models.questionnaire import Feedback, QuestionnaireAnswers
from woz.models.record import Record
from woz.models.study import Study
from woz.models.task import Message
from woz.research.instruments import DESCRIPTIONS
from woz.research.questionnaires import items_of, scores_of

Written = tuple[dict[str, int], Counter[str], list[Record]]

TRANSCRIPT_COLUMNS = (
    "session",
    "turn",
    "role",
    "text",
    "tool_calls",
    "is_answer",
    "sent_at",
    "read_at",
    "rating",
    "feedback_comment",
    *PROVENANCE_FIELDS,
)


@dataclass
class SurveyData:
    """What the analysis formats read: the selected records, and the participants'
    questionnaire answers and feedback (of those an export may include)."""

    study: Study
    rows: Sequence[Selected]
    answers: Sequence[QuestionnaireAnswers]
    feedback: Sequence[Feedback]
    reads: dict[str, datetime]


def transcript_rows(
    rows: Sequence[Selected], feedback: Sequence[Feedback], reads: dict[str, datetime]
) -> list[Row]:
    """One row per message of the selected records, in order of arrival."""
    thumbs = {f.record_id: f for f in feedback}
    history: dict[str, list[Message]] = {}
    out: list[Row] = []
    for selected in sorted(rows, key=lambda s: s.record.timings.received_at):
        record = selected.record
        fields = provenance(record, selected.flags)
        check_row(fields)
        turns = [(m, False) for m in new_turns(record, history.get(record.conversation_id))]
        answer = record.answer.as_message() if record.answer else None
        if answer is not None:
            turns.append((answer, True))
        start = len(record.messages) - len(turns) + (1 if answer else 0)
        timings = record.timings
        answered_at = timings.delivered_at or timings.answered_at
        thumb = thumbs.get(record.id)
        for offset, (message, is_answer) in enumerate(turns):
            flat = flat_turn(message)
            out.append(
                fields
                | {
                    "session": record.conversation_id,
                    "turn": start + offset,
                    "role": flat["role"],
                    "text": flat["content"],
                    "tool_calls": flat["tool_calls"] or None,
                    "is_answer": is_answer,
                    "sent_at": (answered_at if is_answer else timings.received_at),
                    "read_at": reads.get(record.id) if is_answer else None,
                    "rating": thumb.rating if thumb and is_answer else None,
                    "feedback_comment": thumb.comment if thumb and is_answer else None,
                }
            )
        history[record.conversation_id] = [*record.messages, *([answer] if answer else [])]
    return out


def write_transcripts(data: SurveyData, out: Path) -> Written:
    files = write_table(
        out,
        "transcripts",
        TRANSCRIPT_COLUMNS,
        transcript_rows(data.rows, data.feedback, data.reads),
    )
    return files, Counter(), [s.record for s in data.rows]


def questionnaire_columns(study: Study) -> list[str]:
    columns = ["participant", "arm"]
    for questionnaire in study.questionnaires:
        columns += [f"{questionnaire.id}.{item.id}" for item in items_of(questionnaire)]
        columns.append(f"{questionnaire.id}.submitted_at")
        columns += list(scores_of(questionnaire, {}))
    return columns


def questionnaire_rows(study: Study, answers: Sequence[QuestionnaireAnswers]) -> list[Row]:
    """One row per participant, in order of their first submission."""
    by_id = {q.id: q for q in study.questionnaires}
    rows: dict[str, Row] = {}
    for given in answers:
        questionnaire = by_id.get(given.questionnaire)
        if questionnaire is None:  # the study file dropped it since: its answers stay out
            continue
        row = rows.setdefault(given.participant, {"participant": given.participant})
        row["arm"] = row.get("arm") or given.arm
        for item, value in given.answers.items():
            row[f"{questionnaire.id}.{item}"] = value
        row[f"{questionnaire.id}.submitted_at"] = given.submitted_at
        row.update(scores_of(questionnaire, given.answers))
    return list(rows.values())


def write_questionnaires(data: SurveyData, out: Path) -> Written:
    rows = questionnaire_rows(data.study, data.answers)
    files = write_table(out, "questionnaires", questionnaire_columns(data.study), rows)
    answered = {row["participant"] for row in rows}
    return files, Counter(), [s.record for s in data.rows if s.record.participant in answered]


SURVEY_WRITERS = {"transcripts": write_transcripts, "questionnaires": write_questionnaires}


def questionnaires_section(study: Study) -> str:
    """The dataset card's description of the study's questionnaires and their scoring."""
    if not study.questionnaires:
        return ""
    lines = ["## Questionnaires\n"]
    for questionnaire in study.questionnaires:
        arms = ", ".join(questionnaire.arms) or "every participant"
        head = f"- `{questionnaire.id}`, {questionnaire.when} the chat, for {arms}"
        if questionnaire.instrument is not None:
            lines.append(f"{head}: {DESCRIPTIONS[questionnaire.instrument]}")
            continue
        lines.append(f"{head}: the study's own items.")
        for item in items_of(questionnaire):
            choices = item.points or [o.value for o in item.options]
            shown = f" ({' / '.join(choices)})" if choices else ""
            needed = ", required" if item.required else ""
            lines.append(
                f"  - `{questionnaire.id}.{item.id}`: {item.kind}{needed}{shown}: {item.text}"
            )
    lines.append(
        "\nLikert answers are the point's number (1 = the first label); sliders 0-100; "
        "multiple choices a list of option values. `questionnaires` exports have one row "
        "per participant; join them to `transcripts` on `participant`.\n"
    )
    return "\n".join(lines)
