"""What every facade does before its dialect-specific work: read the body, find
the persona, pseudonymise the participant, and key the request for retries.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from pydantic import BaseModel

from woz.context import PAGE_PARTICIPANT, STUDY, STUDY_SECRET, app_key
from woz.errors import ErrorKind, WozError, invalid_request
from woz.jsontext import loads
from woz.models.study import Persona
from woz.research.pseudonyms import pseudonym

ARM_HEADER = "X-Woz-Arm"
PARTICIPANT_HEADER = "X-Woz-Participant"
CONVERSATION_HEADER = "X-Woz-Conversation"


async def read_json(request: web.Request) -> tuple[dict[str, Any], bytes]:
    """The body as a JSON object, with its raw bytes (for the retry key)."""
    raw = await request.read()
    try:
        body = loads(raw)
    except ValueError as exc:
        raise invalid_request(
            f"We could not parse the JSON body of your request: {exc}.", code="invalid_json"
        ) from exc
    if not isinstance(body, dict):
        raise invalid_request("The request body must be a JSON object.", code="invalid_json")
    return body, raw


def find_persona(request: web.Request, model: str) -> Persona:
    persona = request.app[STUDY].persona(model)
    if persona is None:
        raise WozError(
            ErrorKind.NOT_FOUND,
            f"The model `{model}` does not exist or you do not have access to it.",
            code="model_not_found",
            param="model",
        )
    return persona


class Intake(BaseModel):
    """The dialect-independent facts about one API request."""

    participant: str | None
    conversation_id: str
    scope: str
    request_key: str
    received_at: datetime
    requested_arm: str | None = None

    def task_fields(self) -> dict[str, Any]:
        """The fields of a `Task` that come from these facts."""
        return {
            "participant": self.participant,
            "conversation_id": self.conversation_id,
            "scope": self.scope,
            "request_key": self.request_key,
            "received_at": self.received_at,
            "requested_arm": self.requested_arm,
        }


def intake(request: web.Request, raw_body: bytes, external_participant: str | None) -> Intake:
    """Pseudonymise the participant, scope the conversation, and key the request.

    The one place that decides who the participant is. An app names them (the
    `X-Woz-Participant` header, else the body's field `external_participant`);
    a request from the participant chat page is the participant its cookie
    proved (`PAGE_PARTICIPANT`, already a pseudonym), whatever the request says.

    The request key is the same for an SDK's retry of the same request (same
    caller, same participant and conversation headers, same body bytes), so the
    retry joins the task in flight.
    """
    secret = request.app[STUDY_SECRET]
    page_participant = request.get(PAGE_PARTICIPANT)
    if page_participant is not None:
        # Each page participant is their own caller: conversation ids they choose
        # can never join another participant's conversation.
        participant: str | None = page_participant
        caller = f"page:{page_participant}"
    else:
        external = request.headers.get(PARTICIPANT_HEADER) or external_participant
        participant = pseudonym(secret, "p", external) if external else None
        caller = app_key(request).id
    explicit_conversation = request.headers.get(CONVERSATION_HEADER)
    conversation_id = (
        pseudonym(secret, "conv", f"{caller}:{explicit_conversation}")
        if explicit_conversation
        else ""
    )
    hasher = hashlib.sha256()
    for part in (caller, request.path, participant or "", explicit_conversation or ""):
        hasher.update(part.encode() + b"\0")
    hasher.update(raw_body)
    return Intake(
        participant=participant,
        conversation_id=conversation_id,
        scope=f"{caller}:{participant or ''}",
        request_key=hasher.hexdigest(),
        received_at=datetime.now(UTC),
        requested_arm=request.headers.get(ARM_HEADER),
    )
