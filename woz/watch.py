"""The researcher's watch view: a study's operators, queue and exchanges, live.

`/watch/login?token=<researcher token>` trades the token for an HttpOnly session
cookie (as the operator console does) and redirects to `/watch/`, a page that
polls `GET /watch/state` every second. Scripts can read the same state with
`Authorization: Bearer <researcher token>`. Only researcher keys get in: app
keys and operator keys are refused, since the view shows every participant's text.
Participants appear by pseudonym, as in the records; records show their operator
by pseudonym, with the key's name beside it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from operator_console import STATIC_ROOT
from woz.auth import bearer_token
from woz.console import CONTENT_SECURITY_POLICY
from woz.context import DISPATCHER, KEYS, RECORDER, STORE, STUDY
from woz.headers import BrowserPolicy
from woz.models.keys import KeyInfo
from woz.models.live import LiveTask, excerpt
from woz.models.record import Record
from woz.sessions import BrowserLogin

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
        return await request.app[KEYS].verify(token, "researcher")
    return await RESEARCHER_LOGIN.key(request)


async def state(request: web.Request) -> web.Response:
    """The study right now: queue figures, operators, tasks in flight, recent records."""
    if await _researcher(request) is None:
        message = "Log in with a researcher link (/watch/login?token=...) or a researcher key."
        return web.json_response(
            {"error": {"code": "not_logged_in", "message": message}}, status=401
        )
    app = request.app
    study = app[STUDY]
    dispatcher = app[DISPATCHER]
    pseudonym = app[RECORDER].operator_pseudonym
    live = dispatcher.live(LISTED_TASKS)
    names = {pseudonym(key.id): key.name for key in await app[STORE].list_keys(study.id)}
    now = datetime.now(UTC)
    body = {
        "study": {"id": study.id, "title": study.study.title},
        "now": now.isoformat(),
        "queue": dispatcher.status().model_dump(),
        "operators": [
            {**op.model_dump(exclude={"key_id"}), "operator": pseudonym(op.key_id)}
            for op in live.operators
        ],
        "in_flight": live.in_flight,
        "tasks": [_task(task, pseudonym, names, now) for task in live.tasks],
        "recent": [
            _record(record, names)
            for record in await app[STORE].recent_records(study.id, RECENT_RECORDS)
        ],
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
    return fields


def _record(record: Record, operator_names: dict[str, str]) -> dict[str, Any]:
    answer = record.answer
    text = ""
    if answer is not None:
        calls = [f"{call.name}({call.arguments})" for call in answer.tool_calls]
        text = "\n".join([answer.content or "", *calls]).strip()
    timings = record.timings
    answer_s = (
        round((timings.answered_at - timings.received_at).total_seconds(), 1)
        if timings.answered_at
        else None
    )
    last = record.messages[-1].text() if record.messages else ""
    return {
        "id": record.id,
        "received_at": timings.received_at.isoformat(),
        "persona": record.persona,
        "arm": record.arm,
        "participant": record.participant,
        "conversation_id": record.conversation_id,
        "operator": record.operator,
        "operator_name": operator_names.get(record.operator or ""),
        "last_message": excerpt(last),
        "answer": excerpt(text),
        "produced_by": record.produced_by,
        "status": record.status,
        "failure": record.failure,
        "answer_s": answer_s,
        "wizard_error": record.wizard_error,
    }


def setup_watch(app: web.Application) -> None:
    RESEARCHER_LOGIN.add_routes(app, STATIC_ROOT / "watch.html")
    app.router.add_get("/watch/state", state)
