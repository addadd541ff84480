"""Serving the operator console, and logging operators in with their link.

`/console/login?token=<operator token>` trades the token for an HttpOnly,
SameSite session cookie and redirects to `/console/` (see `woz.auth.sessions`). Every
console response carries a strict Content-Security-Policy: participant text can
never run as script.
"""

from __future__ import annotations

from aiohttp import web

from operator_console import STATIC_ROOT
from woz.auth.headers import BrowserPolicy
from woz.auth.sessions import BrowserLogin
from woz.operators.hub import SESSION_COOKIE

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: https:; "
    "media-src 'self' data: blob: https:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'"
)


console_headers = BrowserPolicy(CONTENT_SECURITY_POLICY, ("/console",))
OPERATOR_LOGIN = BrowserLogin(
    role="operator",
    cookie=SESSION_COOKIE,
    home="/console/",
    cookie_path="/",  # the operator hub's socket and media live under /operator
    same_site="Lax",
    refusal="This login link is not valid. Ask the researcher for a new one.",
)


async def session(request: web.Request) -> web.Response:
    """Whether this browser is logged in, so the console can say why its socket is refused."""
    info = await OPERATOR_LOGIN.key(request)
    if info is None:
        message = (
            "You are not logged in, or your session has expired. "
            "Open the login link the researcher gave you."
        )
        return web.json_response({"logged_in": False, "message": message}, status=401)
    return web.json_response({"logged_in": True, "display_name": info.name})


def setup_console(app: web.Application) -> None:
    OPERATOR_LOGIN.add_routes(app, STATIC_ROOT / "index.html")
    app.router.add_get("/console/session", session)
