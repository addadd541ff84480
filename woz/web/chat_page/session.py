"""Who is on the chat page: the participant the link names, or one made at the first visit.

`GET /p/<study id>` decides who the visitor is. A link from a recruitment
platform names them (`woz.research.recruitment.arrival`: `PROLIFIC_PID`,
`workerId`, ...): the external id becomes their pseudonym, as the API's
`X-Woz-Participant` does, and is never stored; the same id coming back is the
same participant, who carries on where they were. Without an id, the
participant in the browser's cookie comes back, or a new one is made from a
random id.

The participant's signed page token (`Participants.page_token`) is given two
ways. The page's HTML carries it, and the page's script sends it back in the
`X-Woz-Session` header: that works inside a survey's frame, where browsers
block third-party cookies. And an HttpOnly, SameSite=Strict cookie scoped to
`/p/<study id>` keeps it for a visit without an id (a lab's link).

The page's JSON endpoints accept nothing else: no token (or a forged one) is
`401`, and a POST without the `X-Woz-Page: 1` header is `403`. A header token
cannot be sent by another site at all (it is not ambient), and before any of
this `woz.auth.origin` refuses a POST from another origin (`403 cross_site_request`)
or with a body that is not JSON (`415`). A path naming another study is `404`.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from aiohttp import web

from woz.api.research import ApiError
from woz.context import RUNTIME, STUDIES, runtime_of
from woz.models.study import Study
from woz.research.page_sessions import PageSessions
from woz.research.participants import Participants
from woz.research.recruitment import arrival

PREFIX = "/p"
COOKIE = "woz_participant"
COOKIE_DAYS = 180  # long enough to come back for an end-of-study debrief
PAGE_HEADER = "X-Woz-Page"
SESSION_HEADER = "X-Woz-Session"
ACTOR = "participant_page"


# The study-scoped things the page's handlers use, reached only through these.


def page_study(request: web.Request) -> Study:
    """The study whose page this request is for (its path chose the runtime)."""
    return runtime_of(request).study


def page_sessions(request: web.Request) -> PageSessions:
    """The page sessions of that study's participants."""
    return runtime_of(request).page_sessions


def study_secret(request: web.Request) -> bytes:
    return runtime_of(request).secret


def page_path(study_id: str) -> str:
    """The chat page of a study, relative to the server's base URL."""
    return f"{PREFIX}/{study_id}"


def is_this_study(request: web.Request) -> bool:
    """Whether the path names a study served here; the request is then scoped to it."""
    runtime = request.config_dict[STUDIES].get(request.match_info.get("study_id", ""))
    if runtime is None:
        return False
    request[RUNTIME] = runtime
    return True


def check_study(request: web.Request) -> None:
    """`404 unknown_study` unless the path names a study served here (and scope to it)."""
    if not is_this_study(request):
        raise ApiError(404, "unknown_study", "There is no study with this id on this server.")


def page_participant(request: web.Request) -> tuple[Participants, str]:
    """The participant service and the pseudonym the request's token proves (the
    `X-Woz-Session` header, else the cookie).

    Raises `ApiError`: 404 for another study, 401 without a genuine token, 403
    for a POST without the page header.
    """
    check_study(request)
    participants = runtime_of(request).participants
    token = request.headers.get(SESSION_HEADER) or request.cookies.get(COOKIE)
    if not token:
        raise ApiError(
            401, "no_session", "Open the study's page first; it needs cookies to be enabled."
        )
    participant = participants.participant_of_token(token)
    if participant is None:
        raise ApiError(401, "invalid_session", "This session is not valid; reload the page.")
    if request.method == "POST" and request.headers.get(PAGE_HEADER) != "1":
        raise ApiError(
            403, "page_header_required", f"Requests from the page carry '{PAGE_HEADER}: 1'."
        )
    return participants, participant


@dataclass(frozen=True)
class Visitor:
    """Who opened the page: their page token, or a preview that records nothing."""

    token: str
    preview: bool = False


async def arrive(request: web.Request, response: web.StreamResponse) -> Visitor:
    """The visitor's participant: the one the link names, else the cookie's, else a new one;
    the page session of a participant the link names opened (or found again), and the
    token set in the cookie. A visit without an id stores nothing (a link previewer, a
    crawler): its session opens at its first step.

    The cookie is set again on every visit, so its lifetime runs from the last one.
    """
    participants = runtime_of(request).participants
    found = arrival(page_study(request), request.query)
    if found.preview:  # MTurk's preview of a HIT not yet accepted: nobody to record
        return Visitor("", preview=True)
    participant = None
    if found.external_id is not None:
        participant = participants.pseudonym_of(found.external_id)
    elif token := request.cookies.get(COOKIE, ""):
        participant = participants.participant_of_token(token)
    if participant is None:
        participant = participants.pseudonym_of(secrets.token_urlsafe(24))
    if found.external_id is not None:  # a visit without an id opens its session at consent
        await page_sessions(request).arrive(participant, found)
    token = participants.page_token(participant)
    response.set_cookie(
        COOKIE,
        token,
        max_age=COOKIE_DAYS * 24 * 3600,
        path=page_path(page_study(request).id),
        httponly=True,
        samesite="Strict",
        secure=request.secure,
    )
    return Visitor(token)
