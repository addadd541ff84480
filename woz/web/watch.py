"""The researcher's watch view: a study's operators, queue and exchanges, live.

`/watch/login?token=<researcher token>` trades the token for an HttpOnly session
cookie (as the operator console does) and redirects to `/watch/`, a page that
polls `GET /watch/state` every second. Scripts can read the same state with
`Authorization: Bearer <researcher token>`. Only researcher keys get in: app
keys and operator keys are refused, since the view shows every participant's text.
Participants appear by pseudonym, as in the records; records show their operator
by pseudonym, with the key's name beside it. The view's POSTs reach their handlers
only from its own origin and with a JSON body (`woz.auth.origin`). The session archive,
every past session of the study, is `woz.web.watch_archive`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from operator_console import STATIC_ROOT
from woz.auth.headers import BrowserPolicy
from woz.auth.sessions import BrowserLogin
from woz.auth.tokens import bearer_token
from woz.context import KEYS, STORE, runtime_of, scope_to
from woz.models.keys import KeyInfo
from woz.models.live import LiveTask, turn_text
from woz.models.record import Record
from woz.models.task import Message
from woz.operators.hub import send_notice
from woz.research.operators import RecordRefused
from woz.web.console import CONTENT_SECURITY_POLICY
from woz.web.watch_archive import list_sessions, show_session

WATCH_COOKIE = "woz_watch"
RECENT_RECORDS = 30
LISTED_TASKS = 100  # the oldest in flight; the page says how many more there are

watch_headers = BrowserPolicy(CONTENT_SECURITY_POLICY, ("/watch",))
RESEARCHER_LOGIN = BrowserLogin(
    role="researcher",
    cookie=WATCH_COOKIE,
    home="/watch/",
    cookie_path="/watch",
    same_site="Strict",
    refusal="This link is not valid: the watch view needs a researcher key of this study.",
)


async def _researcher(request: web.Request) -> KeyInfo | None:
    """The researcher behind the request's bearer token or watch session, if any."""
    token = bearer_token(request.headers.get("Authorization"))
    if token is not None:
        info = await request.app[KEYS].verify(token, "researcher")
    else:
        info = await RESEARCHER_LOGIN.key(request)
    # Scoped to the researcher's study: the view shows nothing of any other.
    return info if info is not None and scope_to(request, info) is not None else None


def _error(status: int, code: str, message: str) -> web.Response:
    return web.json_response({"error": {"code": code, "message": message}}, status=status)


Body = TypeVar("Body", bound=BaseModel)
ResearcherHandler = Callable[[web.Request, KeyInfo], Awaitable[web.Response]]


def _researchers_only(
    handler: ResearcherHandler,
) -> Callable[[web.Request], Awaitable[web.Response]]:
    """`handler`, given the researcher; anyone else gets a 401 in the view's own terms."""

    async def checked(request: web.Request) -> web.Response:
        researcher = await _researcher(request)
        if researcher is None:
            message = "Log in with a researcher link (/watch/login?token=...) or a researcher key."
            return _error(401, "not_logged_in", message)
        return await handler(request, researcher)

    return checked


async def state(request: web.Request, researcher: KeyInfo) -> web.Response:
    """The study right now: queue figures, operators, tasks in flight, recent records;
    with `?participant=p_…`, only that participant's tasks and records."""
    app = request.app
    runtime = runtime_of(request)
    study = runtime.study
    dispatcher = runtime.dispatcher
    pseudonym = runtime.recorder.operator_pseudonym
    participant = request.query.get("participant") or None
    live = await dispatcher.live(LISTED_TASKS, participant)
    if participant is None:
        recent = await app[STORE].recent_records(study.id, RECENT_RECORDS)
    else:
        theirs = await app[STORE].list_records(study.id, participant)
        recent = list(reversed(theirs[-RECENT_RECORDS:]))
    names = {pseudonym(key.id): key.name for key in await app[STORE].list_keys(study.id)}
    now = datetime.now(UTC)
    body = {
        "study": {"id": study.id, "title": study.study.title},
        "now": now.isoformat(),
        "queue": (await dispatcher.status()).model_dump(),
        "operators": [
            {**op.model_dump(exclude={"key_id"}), "operator": pseudonym(op.key_id)}
            for op in live.operators
        ],
        "in_flight": live.in_flight,
        "tasks": [_task(task, pseudonym, names, now) for task in live.tasks],
        "participant": participant,
        "recent": [_record(record, names) for record in recent],
    }
    return web.json_response(body)


def _task(
    task: LiveTask, pseudonym: Callable[[str], str], names: dict[str, str], now: datetime
) -> dict[str, Any]:
    fields = task.model_dump(mode="json", exclude={"operator_key_id"})
    operator = pseudonym(task.operator_key_id) if task.operator_key_id else None
    fields["operator"] = operator
    fields["operator_name"] = names.get(operator or "")
    fields["waited_s"] = round((now - task.received_at).total_seconds(), 1)
    left = (task.deadline - now).total_seconds() if task.deadline else None
    fields["expires_in_s"] = round(max(0.0, left), 1) if left is not None else None
    return fields


def _record(record: Record, operator_names: dict[str, str]) -> dict[str, Any]:
    timings = record.timings
    answer_s = (
        round((timings.answered_at - timings.received_at).total_seconds(), 1)
        if timings.answered_at
        else None
    )
    return {
        "id": record.id,
        "received_at": timings.received_at.isoformat(),
        "persona": record.persona,
        "arm": record.arm,
        "participant": record.participant,
        "conversation_id": record.conversation_id,
        "operator": record.operator,
        "operator_name": operator_names.get(record.operator or ""),
        "turns": len(record.messages),
        "last_message": turn_text(record.messages[-1]) if record.messages else "",
        "answer": turn_text(record.answer.as_message()) if record.answer else "",
        "produced_by": record.produced_by,
        "status": record.status,
        "failure": record.failure,
        "answer_s": answer_s,
        "wizard_error": record.wizard_error,
    }


async def task_conversation(request: web.Request, researcher: KeyInfo) -> web.Response:
    """`GET /watch/tasks/{id}`: the conversation of a task in flight, as its operator sees it."""
    task = await runtime_of(request).dispatcher.task(request.match_info["task_id"])
    if task is None:
        return _error(404, "unknown_task", "No such task is waiting for an answer (any more).")
    return web.json_response({"id": task.id, "messages": _transcript(task.messages)})


async def record_conversation(request: web.Request, researcher: KeyInfo) -> web.Response:
    """`GET /watch/records/{id}`: a record's conversation, with the answer as its last turn."""
    record = await request.app[STORE].get_record(request.match_info["record_id"])
    if record is None or record.study_id != runtime_of(request).study.id:
        return _error(404, "unknown_record", "This study has no such record.")
    turns = list(record.messages)
    if record.answer is not None:
        turns.append(record.answer.as_message())
    return web.json_response({"id": record.id, "messages": _transcript(turns)})


def _transcript(messages: Sequence[Message]) -> list[dict[str, str]]:
    return [{"role": message.role, "text": turn_text(message)} for message in messages]


async def _body(request: web.Request, model: type[Body]) -> Body | web.Response:
    """The request's JSON as `model`, or the 400 that names the field at fault."""
    try:
        return model.model_validate_json(await request.read())
    except ValidationError as exc:
        problem = exc.errors()[0]
        where = ".".join(str(part) for part in problem["loc"]) or "body"
        return _error(400, "invalid_body", f"{where}: {problem['msg']}")


class WizardErrorBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str | None = Field(max_length=2000)  # why; null clears the flag


async def flag_wizard_error(request: web.Request, researcher: KeyInfo) -> web.Response:
    """`POST /watch/records/{id}/wizard-error` `{"note": "why" | null}`: flag a record as a
    wizard error, or clear the flag, as `woz records flag` does (audited)."""
    body = await _body(request, WizardErrorBody)
    if isinstance(body, web.Response):
        return body
    if body.note is not None and not body.note.strip():
        return _error(400, "invalid_body", "note: say why the answer was a wizard error")
    record_id = request.match_info["record_id"]
    try:
        await runtime_of(request).operator_records.flag_wizard_error(
            record_id, body.note, f"researcher:{researcher.id}"
        )
    except RecordRefused as refused:
        return _error(404, "unknown_record", str(refused))
    return web.json_response({"id": record_id, "wizard_error": body.note})


class NoticeBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=1000)


async def notify_operators(request: web.Request, researcher: KeyInfo) -> web.Response:
    """`POST /watch/notice` `{"text"}`: a note to every connected operator, shown in their
    console; answers how many got it. Audited, with the text, as `operators.notice`."""
    body = await _body(request, NoticeBody)
    if isinstance(body, web.Response):
        return body
    text = body.text.strip()
    if not text:
        return _error(400, "invalid_body", "text: write the note to send")
    reached = send_notice(runtime_of(request), text, researcher.name or "the researcher")
    await request.app[STORE].append_audit(
        runtime_of(request).study.id,
        f"researcher:{researcher.id}",
        "operators.notice",
        None,
        {"text": text, "operators": reached},
    )
    return web.json_response({"operators": reached})


def setup_watch(app: web.Application) -> None:
    RESEARCHER_LOGIN.add_routes(app, STATIC_ROOT / "watch.html")
    app.router.add_get("/watch/state", _researchers_only(state))
    app.router.add_get("/watch/tasks/{task_id}", _researchers_only(task_conversation))
    app.router.add_get("/watch/records/{record_id}", _researchers_only(record_conversation))
    app.router.add_post(
        "/watch/records/{record_id}/wizard-error", _researchers_only(flag_wizard_error)
    )
    app.router.add_post("/watch/notice", _researchers_only(notify_operators))
    app.router.add_get("/watch/sessions", _researchers_only(list_sessions))
    app.router.add_get("/watch/session", _researchers_only(show_session))
