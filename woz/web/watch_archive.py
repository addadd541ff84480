"""The watch view's session archive: every session of the study, to analyse after the fact.

A session is one conversation of one participant: the records that share a
`conversation_id`. Researchers only (the watch view's rules).

| route | what it does |
|---|---|
| `GET /watch/sessions?arm=&status=&from=&to=&participant=` | the sessions, newest first |
| `GET /watch/session?conversation=<id>` | one session's timeline, typing, ratings and answers |

Filters: `arm`; `status` (`complete`: every answer delivered; `incomplete`: some
client left, nobody answered or it failed; `wizard_error`: some answer flagged);
`from` and `to`, dates (`YYYY-MM-DD`, inclusive) on the session's start;
`participant`, a pseudonym. At most `LISTED_SESSIONS` are listed, with how many
more matched. A session's timeline has, per answer, the participant's new
turns and the times it was received, taken up, first typed, answered,
delivered to the participant's client and read (shown whole, the page in
view); the operator's typing trace to replay; the participant's thumb; the
wizard-error flag; and the participant's questionnaire answers with scores.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from aiohttp import web

from woz.context import STORE, runtime_of
from woz.export.formats import new_turns
from woz.models.keys import KeyInfo
from woz.models.live import turn_text
from woz.models.questionnaire import Feedback
from woz.models.record import Record, RecordStatus
from woz.research.questionnaires import scores_of

LISTED_SESSIONS = 200
STATUSES = ("complete", "incomplete", "wizard_error")


@dataclass
class Session:
    conversation_id: str
    records: list[Record]

    @property
    def first(self) -> Record:
        return self.records[0]

    @property
    def started_at(self) -> datetime:
        return self.first.timings.received_at

    def statuses(self) -> set[str]:
        found = {"incomplete" if self._unfinished() else "complete"}
        if any(r.wizard_error for r in self.records):
            found.add("wizard_error")
        return found

    def _unfinished(self) -> bool:
        return any(r.status is not RecordStatus.DELIVERED for r in self.records)


def sessions_of(records: Sequence[Record]) -> list[Session]:
    """The records grouped by conversation, in order of arrival, newest session first."""
    grouped: dict[str, list[Record]] = {}
    for record in records:
        grouped.setdefault(record.conversation_id, []).append(record)
    found = [Session(cid, group) for cid, group in grouped.items()]
    return sorted(found, key=lambda s: s.started_at, reverse=True)


class FilterRefused(Exception):
    pass


def _day(text: str | None, name: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise FilterRefused(f"'{name}' must be a date, YYYY-MM-DD") from None


def session_filter(query: Any) -> Callable[[Session], bool]:
    """The filter the query asks for; `FilterRefused` names a bad one."""
    arm = query.get("arm") or None
    status = query.get("status") or None
    participant = query.get("participant") or None
    since, until = _day(query.get("from"), "from"), _day(query.get("to"), "to")
    if status is not None and status not in STATUSES:
        raise FilterRefused(f"'status' is one of {', '.join(STATUSES)}")

    def keep(session: Session) -> bool:
        day = session.started_at.date()
        return (
            (arm is None or session.first.arm == arm)
            and (status is None or status in session.statuses())
            and (participant is None or session.first.participant == participant)
            and (since is None or day >= since)
            and (until is None or day <= until)
        )

    return keep


def _error(status: int, code: str, message: str) -> web.Response:
    return web.json_response({"error": {"code": code, "message": message}}, status=status)


def _summary(session: Session, ratings: dict[str, Feedback]) -> dict[str, Any]:
    last = session.records[-1]
    rated = [ratings[r.id].rating for r in session.records if r.id in ratings]
    return {
        "conversation_id": session.conversation_id,
        "participant": session.first.participant,
        "arm": session.first.arm,
        "persona": session.first.persona,
        "started_at": session.started_at.isoformat(),
        "last_at": last.timings.received_at.isoformat(),
        "answers": len(session.records),
        "status": "incomplete" if "incomplete" in session.statuses() else "complete",
        "wizard_errors": sum(1 for r in session.records if r.wizard_error),
        "thumbs_up": rated.count(1),
        "thumbs_down": rated.count(-1),
        "first_message": turn_text(session.first.messages[-1]) if session.first.messages else "",
    }


async def list_sessions(request: web.Request, researcher: KeyInfo) -> web.Response:
    """`GET /watch/sessions`: the study's sessions that match the filters, newest first."""
    try:
        keep = session_filter(request.query)
    except FilterRefused as refused:
        return _error(400, "invalid_filter", str(refused))
    study, store = runtime_of(request).study, request.app[STORE]
    matched = [s for s in sessions_of(await store.list_records(study.id)) if keep(s)]
    ratings = {f.record_id: f for f in await store.list_feedback(study.id)}
    return web.json_response(
        {
            "sessions": [_summary(s, ratings) for s in matched[:LISTED_SESSIONS]],
            "more": max(0, len(matched) - LISTED_SESSIONS),
            "arms": [arm.id for arm in study.arms],
        }
    )


def _time(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _step(
    record: Record,
    previous: list[Any] | None,
    ratings: dict[str, Feedback],
    reads: dict[str, datetime],
    operator_names: dict[str, str],
) -> dict[str, Any]:
    t = record.timings
    thumb = ratings.get(record.id)
    return {
        "record_id": record.id,
        "said": [
            {"role": m.role, "text": turn_text(m)}
            for m in new_turns(record, previous)
            if m.role != "system"
        ],
        "answer": turn_text(record.answer.as_message()) if record.answer else "",
        "produced_by": record.produced_by,
        "operator": record.operator,
        "operator_name": operator_names.get(record.operator or ""),
        "status": record.status,
        "received_at": _time(t.received_at),
        "assigned_at": _time(t.assigned_at),
        "first_keystroke_at": _time(t.first_keystroke_at),
        "answered_at": _time(t.answered_at),
        "delivered_at": _time(t.delivered_at),
        "read_at": _time(reads.get(record.id)),
        "typing": t.typing.model_dump() if t.typing else None,
        "rating": thumb.rating if thumb else None,
        "feedback_comment": thumb.comment if thumb else None,
        "wizard_error": record.wizard_error,
        "failure": record.failure,
    }


async def show_session(request: web.Request, researcher: KeyInfo) -> web.Response:
    """`GET /watch/session?conversation=<id>`: one session as a timeline."""
    study, store = runtime_of(request).study, request.app[STORE]
    conversation = request.query.get("conversation", "")
    records = [r for r in await store.list_records(study.id) if r.conversation_id == conversation]
    if not records:
        return _error(404, "unknown_session", "This study has no such session.")
    participant = records[0].participant
    ratings, reads = {}, {}
    if participant is not None:
        ratings = {f.record_id: f for f in await store.list_feedback(study.id, participant)}
        reads = await store.list_reads(study.id, participant)
    pseudonym = runtime_of(request).recorder.operator_pseudonym
    names = {pseudonym(key.id): key.name for key in await store.list_keys(study.id)}
    steps, previous = [], None
    for record in records:
        steps.append(_step(record, previous, ratings, reads, names))
        previous = [*record.messages, *([record.answer.as_message()] if record.answer else [])]
    questionnaires = []
    if participant is not None:
        by_id = {q.id: q for q in study.questionnaires}
        for given in await store.list_answers(study.id, participant):
            found = by_id.get(given.questionnaire)
            questionnaires.append(
                {
                    "questionnaire": given.questionnaire,
                    "when": given.when,
                    "submitted_at": given.submitted_at.isoformat(),
                    "answers": given.answers,
                    "scores": scores_of(found, given.answers) if found else {},
                }
            )
    return web.json_response(
        {
            "conversation_id": conversation,
            "participant": participant,
            "arm": records[0].arm,
            "persona": records[0].persona,
            "steps": steps,
            "questionnaires": questionnaires,
        }
    )
