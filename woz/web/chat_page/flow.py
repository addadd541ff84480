"""The chat page's way through a session: start, end, debrief, completion, refusal.

consent -> before-questionnaire -> `start` -> chat -> `end` -> after-questionnaire
-> `debrief` -> `complete`; or, instead of consent, `refuse`. Each endpoint
answers with the page's whole state (`woz.web.chat_page.endpoints.page_state`).
The page appends its own URL's query to every call, so that the return address
at the end can carry the platform's parameters (`woz.research.recruitment`).

| route | what it does |
|---|---|
| `POST /p/{study_id}/start` | the chat begins: the study's time limit runs from now |
| `POST /p/{study_id}/end` | `{"reason": "participant" \\| "time_limit"}`: the chat ends |
| `POST /p/{study_id}/debrief` | show the debrief the study's policy calls for (after `end`) |
| `POST /p/{study_id}/complete` | the outcome and its completion code, fixed once |
| `POST /p/{study_id}/refuse` | consent refused: the screen-out code, fixed once |
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict

from woz.api.research import ApiError, read_body
from woz.research.debrief import debrief_due_at_session_end
from woz.research.page_sessions import PageSessions, SessionClosed
from woz.web.chat_page.endpoints import debrief_shown, page_state
from woz.web.chat_page.session import ACTOR, page_participant, page_sessions, page_study


class EndBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Literal["participant", "time_limit"] = "participant"


async def _session_step(
    request: web.Request, step: Callable[[PageSessions, str], Awaitable[object]]
) -> web.Response:
    """Take `step` on the participant's session; the page's state, or `409` naming why
    the session no longer allows it."""
    participants, participant = page_participant(request)
    try:
        await step(page_sessions(request), participant)
    except SessionClosed as closed:
        raise ApiError(409, closed.code, str(closed)) from closed
    return web.json_response(await page_state(request, participants, participant))


async def post_start(request: web.Request) -> web.Response:
    return await _session_step(request, PageSessions.start_chat)


async def post_end(request: web.Request) -> web.Response:
    """The chat ended (recorded once): by the participant, or by the time limit once it
    has passed. The debrief comes after the after-questionnaire (`post_debrief`)."""
    participants, participant = page_participant(request)
    body: EndBody = await read_body(request, EndBody)
    await page_sessions(request).end_chat(participant, body.reason)
    return web.json_response(await page_state(request, participants, participant))


async def post_debrief(request: web.Request) -> web.Response:
    """After the chat (and the after-questionnaire): debrief now if the study's policy says
    so. Recorded once: asking again shows the same debrief without a second event."""
    participants, participant = page_participant(request)
    session = await page_sessions(request).of(participant)
    if session.chat_ended_at is None and session.outcome is None:
        raise ApiError(409, "chat_not_ended", "The debrief comes after the chat: end it first.")
    status = await participants.status(participant)
    if debrief_due_at_session_end(page_study(request)) and not status.debriefed:
        shown = await debrief_shown(request, participant)
        await participants.debrief(participant, ACTOR, shown.shown())
    return web.json_response(await page_state(request, participants, participant))


async def post_complete(request: web.Request) -> web.Response:
    """The end of the session: `completed`, or `timed_out` if the time limit ended the chat.
    A debrief due at the session's end comes first (`409 debrief_first`): no code skips it."""
    participants, participant = page_participant(request)
    session = await page_sessions(request).find(participant)
    if session is not None and session.chat_ended_at is not None and session.outcome is None:
        status = await participants.status(participant)
        due = debrief_due_at_session_end(page_study(request))
        if due and not status.debriefed and not status.withdrawn:
            raise ApiError(409, "debrief_first", "The debrief comes before the end: show it.")
    return await _session_step(request, PageSessions.finish)


async def post_refuse(request: web.Request) -> web.Response:
    """The participant does not consent: the session ends, screened out, with its code.
    A participant who consented withdraws instead (`withdraw`)."""
    participants, participant = page_participant(request)
    status = await participants.status(participant)
    if status.consent_current and not status.withdrawn:
        raise ApiError(
            409, "consent_given", "You have already consented; to stop, withdraw instead."
        )
    await page_sessions(request).finish(participant, "screened_out")
    return web.json_response(await page_state(request, participants, participant))


def setup_flow(app: web.Application, page: str) -> None:
    app.router.add_post(page + "/start", post_start)
    app.router.add_post(page + "/end", post_end)
    app.router.add_post(page + "/debrief", post_debrief)
    app.router.add_post(page + "/complete", post_complete)
    app.router.add_post(page + "/refuse", post_refuse)
