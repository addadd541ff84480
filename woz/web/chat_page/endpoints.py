"""The chat page's JSON endpoints: its state, consent, re-consent and withdrawal.

Each answers with the page's whole state (see `page_state`), so the page's
script re-renders from one shape after any action. Every action goes through
the `Participants` service, so it is validated, recorded and audited exactly as
from the `/woz/` API, with the actor `participant_page`.

Nothing here shows participants the study's `title`, `description` or anything
meant for researchers: under a deceptive design they may state the research
question or the deception. The page's title is `[participant_page]`'s.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict

from woz.api.research import read_body
from woz.context import STORE
from woz.models.study import PermittedUse
from woz.research.conditions import Conditions
from woz.research.consent import ConsentGrant, consent_text_sha256, required_uses
from woz.research.debrief import DebriefContent, debrief_content, debrief_due_at_session_end
from woz.research.participants import Participants
from woz.web.chat_page.resume import session_state
from woz.web.chat_page.session import ACTOR, page_participant, page_sessions, page_study
from woz.web.consent_page import USE_LABELS


class ConsentBody(BaseModel):
    """What the page sends with "I agree": the text it showed, and the uses ticked."""

    model_config = ConfigDict(extra="forbid")

    version: str
    text_sha256: str
    scopes: list[PermittedUse]


class ReconsentBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    granted: bool


async def debrief_shown(request: web.Request, participant: str) -> DebriefContent:
    """The debrief for this participant: its disclosure depends on how they were answered."""
    study = page_study(request)
    conditions = Conditions(study, request.app[STORE])
    mode = await conditions.mode_for(study.page_persona.id, participant)
    return debrief_content(study, mode)


async def page_state(request: web.Request, participants: Participants, participant: str) -> Any:
    """Everything the page shows: the study and persona, the session and its completion
    (kept after a withdrawal: withdrawing never forfeits pay), consent, debrief."""
    study = page_study(request)
    persona = study.page_persona
    status = await participants.status(participant)
    session = await page_sessions(request).seen(participant)
    state: dict[str, Any] = {
        "study": {"id": study.id, "title": study.page_title, "description": study.page_description},
        "persona": {"id": persona.id, "name": persona.display_name or persona.id},
        "locale": study.participant_page.locale,
        "platform": study.recruitment.platform,
        "embedding": {"allow": study.embedding.allow},
        "withdrawn": status.withdrawn,
        "withdrawn_at": status.withdrawn_at.isoformat() if status.withdrawn_at else None,
        "session": await session_state(request, session, None if status.withdrawn else participant),
        # Voice mode (`[participant_page] voice`), and whether recordings are kept.
        "voice": ({"audio_kept": study.voice.keep_audio} if study.participant_page.voice else None),
    }
    if status.withdrawn:
        return state
    state["participant"] = participant
    section = study.study
    state["consent"] = {
        "required": section.consent_required,
        "version": section.consent.version,
        "text": section.consent.text.strip(),
        "text_sha256": consent_text_sha256(study),
        "uses": [
            {"id": use, "label": USE_LABELS[use], "required": use in required_uses(study)}
            for use in section.permitted_uses
        ],
        "given": status.consent_current,
        "scopes": list(status.consent.scopes) if status.consent else [],
    }
    shown = await debrief_shown(request, participant) if status.debriefed else None
    state["debrief"] = {
        "policy": section.debrief.policy,
        "at_session_end": debrief_due_at_session_end(study),
        "given": status.debriefed,
        "content": shown.model_dump() if shown else None,
        "reconsent_required": section.debrief.reconsent_required,
        "reconsent": status.reconsent,
    }
    return state


async def get_state(request: web.Request) -> web.Response:
    participants, participant = page_participant(request)
    return web.json_response(await page_state(request, participants, participant))


async def post_consent(request: web.Request) -> web.Response:
    """Consent to the text the page showed (`409 consent_mismatch` if it changed since)
    for exactly the uses ticked (`400 no_scopes` / `required_use`, see `check_taking_part`)."""
    participants, participant = page_participant(request)
    body: ConsentBody = await read_body(request, ConsentBody)
    grant = ConsentGrant(
        version=body.version,
        text_sha256=body.text_sha256,
        method="participant_page",
        scopes=body.scopes,
    )
    sessions = page_sessions(request)
    session = await sessions.of(participant)
    # The platform's session id is kept with the consent: in its audit entry, and the
    # page session names the consent.
    context = {"platform_session": session.platform_session} if session.platform_session else {}
    record = await participants.consent(participant, grant, ACTOR, **context)
    await sessions.consented(session, record.id)
    return web.json_response(await page_state(request, participants, participant), status=201)


async def post_reconsent(request: web.Request) -> web.Response:
    """After the debrief: may the study keep the participant's conversations?"""
    participants, participant = page_participant(request)
    body: ReconsentBody = await read_body(request, ReconsentBody)
    await participants.reconsent(participant, body.granted, None, ACTOR)
    return web.json_response(await page_state(request, participants, participant))


async def post_withdraw(request: web.Request) -> web.Response:
    """One click: delete the participant's data, keep the tombstone. Idempotent."""
    participants, participant = page_participant(request)
    grave = await participants.withdraw(participant, ACTOR)
    state = await page_state(request, participants, participant)
    state["records_deleted"] = grave.records_deleted
    return web.json_response(state)
