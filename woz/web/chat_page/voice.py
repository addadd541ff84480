"""The chat page's voice mode: `GET /p/<study id>/realtime`, the Realtime facade behind it.

When the study turns it on (`[participant_page] voice = true`), the page's
script opens this WebSocket and speaks the OpenAI Realtime API over it, exactly
as an app would over `/v1/realtime`: the same session, VAD, tasks, speech,
records and refusals (`woz.api.realtime`). Only the caller differs, as for the
page's chat: the participant's cookie instead of an app key, the participant
the cookie proves, and the study's page persona whatever the page asks for.

A WebSocket handshake is a GET that browsers send across sites with cookies,
so its `Origin` must be woz's own (`403 cross_site_request`); without the
study's voice mode the path is `404 voice_off`.
"""

from __future__ import annotations

from aiohttp import web

from woz.api.realtime.socket import serve_session
from woz.api.research import ApiError
from woz.auth.origin import origin_allowed
from woz.context import PAGE_PARTICIPANT, runtime_of
from woz.web.chat_page.session import page_participant


async def voice_socket(request: web.Request) -> web.StreamResponse:
    if not origin_allowed(request):
        raise ApiError(
            403, "cross_site_request", "The voice mode opens only from the study's own page."
        )
    _, participant = page_participant(request)
    study = runtime_of(request).study
    if not study.participant_page.voice:
        raise ApiError(404, "voice_off", "This study has no voice mode.")
    request[PAGE_PARTICIPANT] = participant
    return await serve_session(request, study.page_persona)
