"""Requests that change state must come from woz's own pages (cross-site request forgery).

Browsers attach woz's session cookies (the console's, the watch view's, the
participant page's) to requests that other pages make, and SameSite does not
help against a page on another port of the same host, which is the same site.
So every state-changing request (any method but GET, HEAD and OPTIONS) outside
the key-authenticated APIs (`/v1/`, `/woz/`) passes `same_origin_only` first,
before any handler runs or any body is read:

1. `Origin`, when sent (browsers send it with every POST), must be the server's
   own (the request's scheme, host and port, or `WOZ_PUBLIC_URL`'s) or one of
   `WOZ_ALLOWED_ORIGINS`; else `403 cross_site_request`.
2. Without `Origin`, `Sec-Fetch-Site` decides: `same-origin` and `none` pass,
   `same-site` and `cross-site` are `403`.
3. With neither header the request is not a modern browser's: it passes only if
   it carries no cookie (a program with a bearer key has no ambient authority to
   abuse); with a cookie it is `403`.
4. The body must be declared `application/json`, else `415 unsupported_media_type`:
   a cross-site HTML form can send `text/plain`, form or multipart bodies without
   the browser asking woz first, never JSON.

Refusals are `{"error": {"code", "message"}}`, the shape of every page's endpoints.
The operator socket's handshake (a GET) checks `origin_allowed` itself.
"""

from __future__ import annotations

from collections.abc import Awaitable

import structlog
from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from woz.config import origin_of
from woz.context import SETTINGS

log = structlog.get_logger(__name__)

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
TRUSTED_FETCH_SITES = frozenset({"same-origin", "none"})  # `none`: the user's own navigation
KEY_AUTHENTICATED = ("/v1/", "/woz/")  # the APIs for programs: keys, never cookies


def trusted_origins(request: web.Request) -> set[str]:
    """The server's own origins (as this request reached it, and `WOZ_PUBLIC_URL`'s)
    and `WOZ_ALLOWED_ORIGINS`."""
    settings = request.config_dict[SETTINGS]
    candidates = [f"{request.scheme}://{request.host}", settings.public_url]
    candidates.extend(settings.allowed_origins)
    return {origin for url in candidates if url and (origin := origin_of(url)) is not None}


def origin_allowed(request: web.Request) -> bool:
    """Whether the request's `Origin` header is present and trusted. Browsers serialise
    it one way only (see `origin_of`), so it is compared as sent."""
    origin = request.headers.get("Origin")
    return origin is not None and origin in trusted_origins(request)


def cross_site_refusal(request: web.Request) -> str | None:
    """Why this request may not change anything (the rules 1-3 above), or None."""
    if "Origin" in request.headers:
        if origin_allowed(request):
            return None
        return (
            "This request came from a page of another origin. Changes are accepted only "
            "from woz's own pages (or an origin in WOZ_ALLOWED_ORIGINS; behind a proxy, "
            "set WOZ_PUBLIC_URL)."
        )
    fetch_site = request.headers.get("Sec-Fetch-Site")
    if fetch_site is not None:
        if fetch_site in TRUSTED_FETCH_SITES:
            return None
        return f"This request came from another page ({fetch_site}): woz refuses it."
    if "Cookie" in request.headers:
        return (
            "A request that carries a session cookie must say where it comes from "
            "(Origin); programs authenticate with a key instead."
        )
    return None


def _refusal(status: int, code: str, message: str) -> web.Response:
    return web.json_response({"error": {"code": code, "message": message}}, status=status)


async def _checked(request: web.Request, handler: Handler) -> web.StreamResponse:
    """A state-changing request from a browser page: same origin and JSON, or refused."""
    refusal = cross_site_refusal(request)
    if refusal is not None:
        log.warning(
            "origin.refused",
            path=request.path,
            origin=request.headers.get("Origin"),
            fetch_site=request.headers.get("Sec-Fetch-Site"),
        )
        return _refusal(403, "cross_site_request", refusal)
    if request.content_type != "application/json":
        return _refusal(
            415,
            "unsupported_media_type",
            "Send the body as JSON, with 'Content-Type: application/json'.",
        )
    return await handler(request)


def same_origin_only(exempt: tuple[str, ...] = KEY_AUTHENTICATED) -> Middleware:
    """The middleware that checks every state-changing request outside `exempt` paths."""

    @web.middleware
    def guard(request: web.Request, handler: Handler) -> Awaitable[web.StreamResponse]:
        # Not a coroutine: a request that needs no check returns the handler's own
        # awaitable, so no frame of this middleware stays alive while it waits.
        if (
            request.method in SAFE_METHODS
            or request.path.startswith(exempt)
            or request.match_info.http_exception is not None  # 404/405: no handler runs
        ):
            return handler(request)
        return _checked(request, handler)

    return guard
