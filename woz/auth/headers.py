"""Security headers for the pages woz serves to browsers (operator console, chat page).

Each browser surface gets its own Content-Security-Policy; every one of them
also forbids MIME sniffing, sends no referrer and is never cached, because the
pages show participants' text and carry session cookies.
"""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

BROWSER_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


@dataclass(frozen=True)
class BrowserPolicy:
    """`policy` and `BROWSER_HEADERS` for responses to paths under any of `prefixes`.

    Applied when a response is prepared (`on_response_prepare`), so error
    responses get the headers too.
    """

    policy: str
    prefixes: tuple[str, ...]

    def apply(self, request: web.Request, response: web.StreamResponse) -> None:
        if request.path.startswith(self.prefixes):
            response.headers["Content-Security-Policy"] = self.policy
            response.headers.update(BROWSER_HEADERS)
