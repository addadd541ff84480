"""Who is on the chat page: a participant made at the first visit, kept in a cookie.

The first `GET /p/<study id>` makes a participant: a random external id that
is never stored, only its pseudonym (`Participants.pseudonym_of`). The browser
keeps the participant's signed page token (`Participants.page_token`) in an
HttpOnly, SameSite=Strict cookie scoped to `/p/<study id>`, so the page's
script never sees it and no other site can send it.

The page's JSON endpoints accept nothing else: no cookie (or a forged one) is
`401`, and a POST without the `X-Woz-Page: 1` header is `403`. SameSite does not
stop a page of the same site (another port, a sibling subdomain) from sending the
cookie, so before any of this `woz.origin` refuses a POST from another origin
(`403 cross_site_request`) or with a body that is not JSON (`415`); the header
is a second guard, since a cross-origin page cannot set it without a CORS
preflight, which woz never grants. A path naming another study is `404`.
"""

from __future__ import annotations

import secrets

from aiohttp import web

from woz.api.research import ApiError
from woz.context import RUNTIME, STUDIES, runtime_of
from woz.research.participants import Participants

PREFIX = "/p"
COOKIE = "woz_participant"
COOKIE_DAYS = 180  # long enough to come back for an end-of-study debrief
PAGE_HEADER = "X-Woz-Page"
ACTOR = "participant_page"


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
    """The participant service and the pseudonym the request's cookie proves.

    Raises `ApiError`: 404 for another study, 401 without a genuine cookie, 403
    for a POST without the page header.
    """
    check_study(request)
    participants = runtime_of(request).participants
    token = request.cookies.get(COOKIE)
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


def ensure_participant(request: web.Request, response: web.StreamResponse) -> None:
    """The visitor's participant, made now (and set in the cookie) on a first visit.

    The cookie is set again on every visit, so its lifetime runs from the last one.
    """
    participants = runtime_of(request).participants
    token = request.cookies.get(COOKIE, "")
    participant = participants.participant_of_token(token) if token else None
    if participant is None:
        participant = participants.pseudonym_of(secrets.token_urlsafe(24))
        token = participants.page_token(participant)
    response.set_cookie(
        COOKIE,
        token,
        max_age=COOKIE_DAYS * 24 * 3600,
        path=page_path(runtime_of(request).study.id),
        httponly=True,
        samesite="Strict",
        secure=request.secure,
    )
