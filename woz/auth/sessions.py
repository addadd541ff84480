"""Browser sessions for woz's own pages: a login link trades a key's token for a cookie.

The operator console (`/console/login?token=`) and the researcher's watch view
(`/watch/login?token=`) log in the same way. The link carries the token once;
woz stores only the hash of a fresh session id, with the key it stands for, sets
the session id as an HttpOnly cookie and redirects, so the token leaves the address
bar at once. Sessions of every role share one table, so each lookup checks the role:
a researcher's session never opens the operator hub, nor an operator's the watch view.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal

from aiohttp import web

from woz.auth.tokens import hash_token
from woz.context import KEYS, STORE, scope_to
from woz.models.keys import KeyInfo, KeyRole

SESSION_HOURS = 12


async def session_key(request: web.Request, session: str, role: KeyRole) -> KeyInfo | None:
    """The key behind a live `session` id, if it has `role` and its study is served here;
    the request is then scoped to that study."""
    info = await request.app[STORE].console_session(hash_token(session))
    if info is None or info.role != role or scope_to(request, info) is None:
        return None
    return info


@dataclass(frozen=True)
class BrowserLogin:
    """How one page logs in: which keys, which cookie, where to go after."""

    role: KeyRole
    cookie: str
    home: str  # the page's own path, ending in "/"; where a good link redirects
    cookie_path: str
    same_site: Literal["Lax", "Strict"]
    refusal: str  # what a bad link is told

    @property
    def login_path(self) -> str:
        """Where a key's token logs a browser in: `{login_path}?token=…`."""
        return self.home + "login"

    async def login(self, request: web.Request) -> web.StreamResponse:
        token = request.query.get("token", "")
        info = await request.app[KEYS].verify(token, self.role) if token else None
        if info is None or scope_to(request, info) is None:
            raise web.HTTPUnauthorized(text=self.refusal)
        session = secrets.token_urlsafe(32)
        expires = datetime.now(UTC) + timedelta(hours=SESSION_HOURS)
        await request.app[STORE].add_console_session(hash_token(session), info.id, expires)
        response = web.HTTPFound(self.home)
        response.set_cookie(
            self.cookie,
            session,
            max_age=SESSION_HOURS * 3600,
            httponly=True,
            samesite=self.same_site,
            secure=request.secure,
            path=self.cookie_path,
        )
        raise response

    async def key(self, request: web.Request) -> KeyInfo | None:
        """The key behind the request's session cookie, or None."""
        session = request.cookies.get(self.cookie)
        return await session_key(request, session, self.role) if session else None

    def add_routes(self, app: web.Application, page: Path) -> None:
        """`home` serves `page`, `home` + `login` logs in, `home` + `static/` serves the
        files beside `page`; the path without its slash redirects to `home`."""

        async def show(request: web.Request) -> web.FileResponse:
            return web.FileResponse(page)

        async def to_home(request: web.Request) -> web.StreamResponse:
            raise web.HTTPFound(self.home)

        app.router.add_get(self.login_path, self.login)
        app.router.add_get(self.home.rstrip("/"), to_home)
        app.router.add_get(self.home, show)
        app.router.add_static(self.home + "static", page.parent, append_version=False)
