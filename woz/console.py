"""Serving the operator console, and logging operators in with their link.

`/console/login?token=<operator token>` trades the token for an HttpOnly,
SameSite session cookie and redirects to `/console/`, so the token leaves the
address bar at once. Every console response carries a strict
Content-Security-Policy: participant text can never run as script.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

from aiohttp import web

from operator_console import STATIC_ROOT
from woz.auth import hash_token
from woz.context import KEYS, STORE, STUDY
from woz.headers import BrowserPolicy
from woz.operators.hub import SESSION_COOKIE

SESSION_HOURS = 12
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: https:; "
    "media-src 'self' data: blob: https:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'"
)


console_headers = BrowserPolicy(CONTENT_SECURITY_POLICY, ("/console",))


async def login(request: web.Request) -> web.StreamResponse:
    token = request.query.get("token", "")
    info = await request.app[KEYS].verify(token, "operator") if token else None
    if info is None:
        raise web.HTTPUnauthorized(
            text="This login link is not valid. Ask the researcher for a new one.",
        )
    session = secrets.token_urlsafe(32)
    expires = datetime.now(UTC) + timedelta(hours=SESSION_HOURS)
    await request.app[STORE].add_console_session(hash_token(session), info.id, expires)
    response = web.HTTPFound("/console/")
    response.set_cookie(
        SESSION_COOKIE,
        session,
        max_age=SESSION_HOURS * 3600,
        httponly=True,
        samesite="Lax",
        secure=request.secure,
        path="/",
    )
    raise response


async def session(request: web.Request) -> web.Response:
    """Whether this browser is logged in, so the console can say why its socket is refused."""
    cookie = request.cookies.get(SESSION_COOKIE)
    info = await request.app[STORE].console_session(hash_token(cookie)) if cookie else None
    if info is None or info.study_id != request.app[STUDY].id:
        message = (
            "You are not logged in, or your session has expired. "
            "Open the login link the researcher gave you."
        )
        return web.json_response({"logged_in": False, "message": message}, status=401)
    return web.json_response({"logged_in": True, "display_name": info.name})


async def index(request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC_ROOT / "index.html")


async def to_index(request: web.Request) -> web.StreamResponse:
    raise web.HTTPFound("/console/")


def setup_console(app: web.Application) -> None:
    app.router.add_get("/console/login", login)
    app.router.add_get("/console/session", session)
    app.router.add_get("/console", to_index)
    app.router.add_get("/console/", index)
    app.router.add_static("/console/static", STATIC_ROOT, append_version=False)
