"""What every facade does before its dialect-specific work: read the body, find
the persona, pseudonymise the participant, and key the request for retries.

A request may join the task of an earlier one (or get its answer again) only
when it says it is a retry: the official SDKs number their attempts in
`X-Stainless-Retry-Count` (0 for the first), and any client may send an
`Idempotency-Key`. A first attempt is keyed too, so that its retry finds it.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from pydantic import BaseModel

from woz.context import PAGE_PARTICIPANT, app_key, runtime_of
from woz.errors import ErrorKind, WozError, invalid_request
from woz.jsontext import loads
from woz.models.pseudonyms import pseudonym
from woz.models.study import Persona
from woz.research.conditions import ARM_HEADER

PARTICIPANT_HEADER = "X-Woz-Participant"
CONVERSATION_HEADER = "X-Woz-Conversation"
RETRY_COUNT_HEADER = "X-Stainless-Retry-Count"
IDEMPOTENCY_HEADER = "Idempotency-Key"


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
    """The persona `model` names, or a 404 `model_not_found` listing the ones there are."""
    study = runtime_of(request).study
    persona = study.persona(model)
    if persona is None:
        served = ", ".join(f"`{p.id}`" for p in study.personas)
        raise WozError(
            ErrorKind.NOT_FOUND,
            f"The model `{model}` does not exist or you do not have access to it. "
            f"The models available are: {served}.",
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
    request_digest: str
    may_join: bool
    received_at: datetime
    requested_arm: str | None = None

    def task_fields(self) -> dict[str, Any]:
        """The fields of a `Task` that come from these facts."""
        return {
            "participant": self.participant,
            "conversation_id": self.conversation_id,
            "scope": self.scope,
            "request_key": self.request_key,
            "request_digest": self.request_digest,
            "may_join": self.may_join,
            "received_at": self.received_at,
            "requested_arm": self.requested_arm,
        }


def intake(request: web.Request, raw_body: bytes, external_participant: str | None) -> Intake:
    """Pseudonymise the participant, scope the conversation, and key the request.

    The one place that decides who the participant is. An app names them (the
    `X-Woz-Participant` header, else the body's field `external_participant`);
    a request from the participant chat page is the participant its cookie
    proved (`PAGE_PARTICIPANT`, already a pseudonym), whatever the request says.

    The request key is the same for a retry of the same request: the same caller
    and participant, and the same `Idempotency-Key` if the request has one, else
    the same path, conversation header and body bytes. Only a retry (see
    `is_retry`) may join the task of its key; any other request is a new task.
    """
    secret = runtime_of(request).secret
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
    asked = digest((request.path, explicit_conversation or ""), raw_body)
    idempotency_key = request.headers.get(IDEMPOTENCY_HEADER, "")
    who = (caller, participant or "")
    if idempotency_key:
        request_key = digest(("idempotency-key", *who, idempotency_key))
    else:
        request_key = digest(("request", *who, asked))
    return Intake(
        participant=participant,
        conversation_id=conversation_id,
        scope=f"{caller}:{participant or ''}",
        request_key=request_key,
        request_digest=asked,
        may_join=bool(idempotency_key) or is_retry(request.headers.get(RETRY_COUNT_HEADER, "")),
        received_at=datetime.now(UTC),
        requested_arm=request.headers.get(ARM_HEADER),
    )


def is_retry(retry_count: str) -> bool:
    """Whether an `X-Stainless-Retry-Count` value numbers a retry (1 or more); a
    first attempt (0), a missing header and anything not a number are not."""
    return retry_count.isascii() and retry_count.isdigit() and retry_count.strip("0") != ""


def digest(parts: tuple[str, ...], body: bytes = b"") -> str:
    """SHA-256 of `parts`, each ended by a NUL, then of `body`."""
    hasher = hashlib.sha256()
    for part in parts:
        hasher.update(part.encode() + b"\0")
    hasher.update(body)
    return hasher.hexdigest()
