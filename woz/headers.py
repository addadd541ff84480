"""Security headers for the pages woz serves to browsers (operator console, chat page).

Each browser surface gets its own Content-Security-Policy; every one of them
also forbids MIME sniffing, sends no referrer and is never cached, because the
pages show participants' text and carry session cookies.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

Middleware = Any  # aiohttp's middleware type is not exported in a stable place

BROWSER_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def browser_headers(policy: str, *prefixes: str) -> Middleware:
    """A middleware that sets `policy` and `BROWSER_HEADERS` on responses to paths
    starting with any of `prefixes`, errors included."""

    @web.middleware
    async def add_headers(request: web.Request, handler: Any) -> web.StreamResponse:
        response: web.StreamResponse = await handler(request)
        if request.path.startswith(prefixes):
            response.headers["Content-Security-Policy"] = policy
            response.headers.update(BROWSER_HEADERS)
        return response

    return add_headers
