"""The participant chat page: `/p/<study id>`, a link a researcher sends to participants.

The page asks for consent to the study's consent text (or takes a refusal),
runs the study's before-questionnaire, then chats with the study's page
persona like a real assistant (the answer streams in); when the chat ends it
runs the after-questionnaire, shows the debrief the study calls for, with a
one-click withdrawal that deletes their data, and ends with the recruitment
platform's completion code (`woz.web.chat_page.flow`). Static HTML, JS and CSS
(`static/`, no build step, nothing loaded from elsewhere) under a strict
Content-Security-Policy; the script renders every text with text nodes.

The page may be framed only by the origins of the study's `[embedding] allow`
(`frame-ancestors`); the console and the watch view never are.

| route | what it does |
|---|---|
| `GET /p/{study_id}` | the page; the link's id (or the cookie, or a new id) names the participant |
| `GET /p/{study_id}/state` | title, persona, session, consent, debrief, withdrawal, completion |
| `POST /p/{study_id}/consent` | `{"version", "text_sha256", "scopes"}`: consent to the text shown |
| `POST /p/{study_id}/chat/completions` | Chat Completions, streamed as `/v1/` streams it |
| `POST /p/{study_id}/start`, `end`, `debrief`, `complete`, `refuse` | see `flow` |
| `GET /p/{study_id}/realtime` | voice mode (a WebSocket): the Realtime API of `/v1/realtime` |
| `POST /p/{study_id}/reconsent` | `{"granted": bool}` after the debrief, when the study asks |
| `POST /p/{study_id}/withdraw` | delete the participant's data; answers how many records went |
| `GET /p/{study_id}/questionnaires`, `POST .../questionnaires/{id}` | see `questionnaires` |
| `POST /p/{study_id}/feedback` | a thumb up or down on one answer (`questionnaires`) |
| `GET /participant/static/*` | the page's script, styles and locales |

JSON errors are `{"error": {"code", "message"}}` (the chat's are OpenAI's body,
which has both fields too). Authentication is in `woz.web.chat_page.session`.
"""

from __future__ import annotations

from collections.abc import Awaitable
from html import escape
from pathlib import Path
from typing import Any

from aiohttp import web

from woz.api.research import research_errors
from woz.auth.headers import BROWSER_HEADERS
from woz.context import RUNTIME, STUDIES
from woz.models.study import Study
from woz.web.chat_page.chat import chat_completion
from woz.web.chat_page.endpoints import get_state, post_consent, post_reconsent, post_withdraw
from woz.web.chat_page.flow import setup_flow
from woz.web.chat_page.questionnaires import setup_questionnaires
from woz.web.chat_page.session import PREFIX, arrive, is_this_study, page_path
from woz.web.chat_page.voice import voice_socket

STATIC_ROOT = Path(__file__).parent / "static"
STATIC_PREFIX = "/participant/static"
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors {ancestors}; "
    "form-action 'none'"
)
TOKEN_SLOT = '<meta name="woz-session" content="">'
PREVIEW_SLOT = '<meta name="woz-preview" content="">'
NOT_FOUND_HTML = (
    '<!doctype html><html lang="en"><meta charset="utf-8">'
    '<meta name="viewport" content="width=device-width,initial-scale=1">'
    "<title>Not found</title><p>There is no study at this address. "
    "Check the link the research team sent you.</p></html>"
)


def content_security_policy(study: Study) -> str:
    """The page's policy: framed only by the study's `[embedding] allow` (validated as
    origins when the study is loaded, so nothing else reaches the header)."""
    ancestors = " ".join(study.embedding.allow) or "'none'"
    return CONTENT_SECURITY_POLICY.format(ancestors=ancestors)


def chat_page_headers(request: web.Request, response: web.StreamResponse) -> None:
    """The page's security headers on every response under its paths (errors too)."""
    if request.path.startswith((PREFIX + "/", STATIC_PREFIX)):
        # A path of no study served here (or a static file) may be framed by nobody.
        runtime = request.get(RUNTIME) or request.config_dict[STUDIES].get(
            request.match_info.get("study_id", "")
        )
        response.headers["Content-Security-Policy"] = (
            content_security_policy(runtime.study)
            if runtime is not None
            else CONTENT_SECURITY_POLICY.format(ancestors="'none'")
        )
        response.headers.update(BROWSER_HEADERS)


@web.middleware
def chat_page_errors(request: web.Request, handler: Any) -> Awaitable[web.StreamResponse]:
    """Failures under `/p/` as `{"error": {"code", "message"}}`, like the research API's.

    Not a coroutine: elsewhere it returns the handler's own awaitable, so no frame of
    this middleware stays alive while an API request waits for a human."""
    if not request.path.startswith(PREFIX + "/"):
        response: Awaitable[web.StreamResponse] = handler(request)
        return response
    return research_errors(request, handler)


async def show_page(request: web.Request) -> web.StreamResponse:
    if not is_this_study(request):
        return web.Response(status=404, text=NOT_FOUND_HTML, content_type="text/html")
    response = web.Response(content_type="text/html")
    visitor = await arrive(request, response)
    html = (STATIC_ROOT / "index.html").read_text()
    html = html.replace(TOKEN_SLOT, f'<meta name="woz-session" content="{escape(visitor.token)}">')
    if visitor.preview:
        html = html.replace(PREVIEW_SLOT, '<meta name="woz-preview" content="1">')
    response.text = html
    return response


async def to_page(request: web.Request) -> web.StreamResponse:
    raise web.HTTPFound(page_path(request.match_info["study_id"]))


def setup_chat_page(app: web.Application) -> None:
    page = PREFIX + "/{study_id}"
    app.router.add_get(page, show_page)
    app.router.add_get(page + "/", to_page)
    app.router.add_get(page + "/state", get_state)
    app.router.add_post(page + "/consent", post_consent)
    app.router.add_post(page + "/chat/completions", chat_completion)
    app.router.add_get(page + "/realtime", voice_socket)
    app.router.add_post(page + "/reconsent", post_reconsent)
    app.router.add_post(page + "/withdraw", post_withdraw)
    setup_flow(app, page)
    setup_questionnaires(app, page)
    app.router.add_static(STATIC_PREFIX, STATIC_ROOT, append_version=False)


__all__ = ["chat_page_errors", "chat_page_headers", "page_path", "setup_chat_page"]
