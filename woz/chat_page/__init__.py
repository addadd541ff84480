"""The participant chat page: `/p/<study id>`, a link a researcher sends to participants.

The page asks for consent to the study's consent text, then chats with the
study's page persona like a real assistant (the answer streams in), and when
the participant ends the session shows the debrief the study calls for, with
a one-click withdrawal that deletes their data. Static HTML, JS and CSS
(`static/`, no build step, nothing loaded from elsewhere) under a strict
Content-Security-Policy; the script renders every text with `textContent`.

| route | what it does |
|---|---|
| `GET /p/{study_id}` | the page; a first visit makes a participant and sets their cookie |
| `GET /p/{study_id}/state` | page title, persona, consent text and standing, debrief, withdrawal |
| `POST /p/{study_id}/consent` | `{"version", "text_sha256", "scopes"}`: consent to the text shown |
| `POST /p/{study_id}/chat/completions` | Chat Completions, streamed as `/v1/` streams it |
| `POST /p/{study_id}/end` | end the session; debriefs when the study's policy says so |
| `POST /p/{study_id}/reconsent` | `{"granted": bool}` after the debrief, when the study asks |
| `POST /p/{study_id}/withdraw` | delete the participant's data; answers how many records went |
| `GET /p/{study_id}/questionnaires`, `POST .../questionnaires/{id}` | see `questionnaires` |
| `POST /p/{study_id}/feedback` | a thumb up or down on one answer (`questionnaires`) |
| `GET /participant/static/*` | the page's script and styles |

JSON errors are `{"error": {"code", "message"}}` (the chat's are OpenAI's body,
which has both fields too). Authentication is in `woz.chat_page.session`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aiohttp import web

from woz.api.research import research_errors
from woz.chat_page.chat import chat_completion
from woz.chat_page.endpoints import get_state, post_consent, post_end, post_reconsent, post_withdraw
from woz.chat_page.questionnaires import setup_questionnaires
from woz.chat_page.session import PREFIX, ensure_participant, is_this_study, page_path
from woz.headers import BrowserPolicy

STATIC_ROOT = Path(__file__).parent / "static"
STATIC_PREFIX = "/participant/static"
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
    "form-action 'none'"
)
NOT_FOUND_HTML = (
    '<!doctype html><html lang="en"><meta charset="utf-8">'
    '<meta name="viewport" content="width=device-width,initial-scale=1">'
    "<title>Not found</title><p>There is no study at this address. "
    "Check the link the research team sent you.</p></html>"
)

chat_page_headers = BrowserPolicy(CONTENT_SECURITY_POLICY, (PREFIX + "/", STATIC_PREFIX))


@web.middleware
async def chat_page_errors(request: web.Request, handler: Any) -> web.StreamResponse:
    """Failures under `/p/` as `{"error": {"code", "message"}}`, like the research API's."""
    if not request.path.startswith(PREFIX + "/"):
        response: web.StreamResponse = await handler(request)
        return response
    return await research_errors(request, handler)


async def show_page(request: web.Request) -> web.StreamResponse:
    if not is_this_study(request):
        return web.Response(status=404, text=NOT_FOUND_HTML, content_type="text/html")
    response = web.FileResponse(STATIC_ROOT / "index.html")
    ensure_participant(request, response)
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
    app.router.add_post(page + "/end", post_end)
    app.router.add_post(page + "/reconsent", post_reconsent)
    app.router.add_post(page + "/withdraw", post_withdraw)
    setup_questionnaires(app, page)
    app.router.add_static(STATIC_PREFIX, STATIC_ROOT, append_version=False)


__all__ = ["chat_page_errors", "chat_page_headers", "page_path", "setup_chat_page"]
