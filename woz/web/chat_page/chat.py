"""The chat page's chat: `POST /p/<study id>/chat/completions`, the real facade behind it.

The body and the answer are the OpenAI Chat Completions wire format, streamed
exactly as `/v1/chat/completions` streams it, because the handler *is* that
facade (`create_chat_completion`): the same task, dispatcher, pacing, records
and refusals. Only the caller differs. Instead of an app key, the request is
authenticated by the participant's cookie, and the participant is the one the
cookie proves: `intake` reads `PAGE_PARTICIPANT` and ignores any
`X-Woz-Participant` header or `user` field the request carries.

The chat is part of the participant's page session (`woz.research.page_sessions`):
the first message starts it if the page did not, and a message after its end, or
past the study's time limit, is `409 session_ended` / `time_limit_reached`.

The page talks to the study's page persona only (`[participant_page] persona`);
another `model` is `400`. Errors are OpenAI's error body, like the API's; a request
from another origin or without a JSON body never gets here (`woz.auth.origin`).
"""

from __future__ import annotations

from aiohttp import web

from woz.api.core.errors import error_response
from woz.api.core.intake import read_json
from woz.api.openai.chat import create_chat_completion
from woz.context import PAGE_PARTICIPANT
from woz.errors import ErrorKind, WozError, invalid_request
from woz.research.page_sessions import SessionClosed
from woz.web.chat_page.session import page_participant, page_sessions, page_study


async def chat_completion(request: web.Request) -> web.StreamResponse:
    participants, participant = page_participant(request)
    request[PAGE_PARTICIPANT] = participant
    try:
        try:  # a chat after its end, or past its time limit, is refused
            if not (await participants.standing(participant)).withdrawn:  # (the facade says)
                await page_sessions(request).start_chat(participant)
        except SessionClosed as closed:
            raise WozError(
                ErrorKind.CONFLICT, str(closed), code=closed.code, retryable=False
            ) from closed
        body, _ = await read_json(request)  # aiohttp keeps the bytes for the facade
        persona = page_study(request).page_persona
        if body.get("model") != persona.id:
            raise invalid_request(
                f"This page talks to the model {persona.id!r} only.", param="model"
            )
        return await create_chat_completion(request)
    except WozError as error:
        return error_response(error, "openai")
