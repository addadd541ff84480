"""The session part of the chat page's state: its steps, time left, code, and transcript.

A participant has one conversation on the page, whatever page load they send
from (`CONVERSATION`, scoped to them by `intake`), so a participant who comes
back carries on the same conversation: the state gives back its transcript,
from the latest answered record, for the page to show and continue.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from woz.context import STORE
from woz.models.pseudonyms import pseudonym
from woz.models.record import RecordStatus
from woz.models.research import PageSession
from woz.research.recruitment import return_url
from woz.web.chat_page.session import page_sessions, page_study, study_secret

CONVERSATION = "page-session"
"""The page's `X-Woz-Conversation`: one per participant (intake scopes it to them)."""


def conversation_id(request: web.Request, participant: str) -> str:
    """The conversation id of the participant's page chat, as records and exports name it."""
    secret = study_secret(request)
    return pseudonym(secret, "conv", f"page:{participant}:{CONVERSATION}")


async def transcript(request: web.Request, participant: str, conversation: str) -> list[Any]:
    """The page conversation so far: the latest delivered record's messages and answer."""
    records = await request.app[STORE].list_records(page_study(request).id, participant)
    answered = [
        r
        for r in records
        if r.conversation_id == conversation
        and r.status in (RecordStatus.ANSWERED, RecordStatus.DELIVERED)
        and r.answer is not None
        and r.answer.content
    ]
    if not answered:
        return []
    last = answered[-1]
    turns = [
        {"role": m.role, "content": m.text()}
        for m in last.messages
        if m.role in ("user", "assistant") and m.text()
    ]
    assert last.answer is not None and last.answer.content is not None
    return [*turns, {"role": "assistant", "content": last.answer.content}]


async def session_state(
    request: web.Request, session: PageSession, participant: str | None
) -> dict[str, Any]:
    """The session's steps for the page; its transcript while the chat is on (and
    `participant` is known: never after a withdrawal)."""
    sessions = page_sessions(request)
    limit = page_study(request).recruitment.time_limit_minutes
    chatting = session.chat_started_at is not None and session.chat_ended_at is None
    conversation = conversation_id(request, participant) if participant else None
    state: dict[str, Any] = {
        "id": conversation,
        "conversation": CONVERSATION,
        "started": session.chat_started_at is not None,
        "ended": session.chat_ended_at is not None,
        "ended_by": session.ended_by,
        "time_limit_s": limit * 60 if limit is not None else None,
        "seconds_left": sessions.seconds_left(session),
        "transcript": (
            await transcript(request, participant, conversation)
            if chatting and participant and conversation
            else []
        ),
        "completion": None,
    }
    if session.outcome is not None:
        code = session.code or ""
        state["completion"] = {
            "outcome": session.outcome,
            "code": code,
            "return_url": return_url(page_study(request), code, request.query),
        }
    return state
