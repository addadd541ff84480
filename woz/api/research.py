"""The research API under `/woz/`: consent, disclosure and withdrawal for apps.

Its own prefix, so it never collides with a vendor's paths under `/v1/`.
Authenticated by an app key or a researcher key (`Authorization: Bearer`).
`{id}` is the app's own id for the participant (what it sends as
`X-Woz-Participant` or `user`); woz pseudonymises it on arrival and never
stores it. Errors are `{"error": {"code", "message"}}` with a fitting status.

| route | what it does |
|---|---|
| `GET /woz/study` | consent text and hash; debrief; permitted and required uses; page title |
| `GET /woz/participants/{id}` | consent, debrief, withdrawal status; the participant page link |
| `POST /woz/participants/{id}/consent` | record consent (version, text hash, method, scopes) |
| `POST /woz/participants/{id}/notice` | the pre-session notice was shown |
| `POST /woz/participants/{id}/debrief` | the debrief text was shown |
| `POST /woz/participants/{id}/reconsent` | after the debrief: `{"granted": bool, "scopes"?}` |
| `POST /woz/participants/{id}/withdraw` | delete the participant's data, keep a tombstone |

The participant's own page (`woz.web.consent_page`) lives under the same
prefix and is authenticated by its signed link instead.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

import structlog
from aiohttp import web
from pydantic import BaseModel, ConfigDict, ValidationError

from woz.api.core.fields import first_problem
from woz.auth.tokens import bearer_token
from woz.context import KEYS, SETTINGS, runtime_of, scope_to
from woz.jsontext import loads
from woz.models.study import PermittedUse
from woz.research.consent import (
    ConsentGrant,
    ConsentRefused,
    ScopesRefused,
    consent_text_sha256,
    required_uses,
)
from woz.research.participants import NotAllowed, Participants

log = structlog.get_logger(__name__)

PREFIX = "/woz"
ACTOR = web.RequestKey("research_actor", str)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
M = TypeVar("M", bound=BaseModel)


class ReconsentBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    granted: bool
    scopes: list[PermittedUse] | None = None


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def error_response(status: int, code: str, message: str) -> web.Response:
    return web.json_response({"error": {"code": code, "message": message}}, status=status)


@web.middleware
async def research_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every failure under `/woz/` (but the HTML page) as `{"error": {code, message}}`."""
    try:
        return await handler(request)
    except ApiError as exc:
        return error_response(exc.status, exc.code, exc.message)
    except ScopesRefused as exc:
        return error_response(400, exc.code, str(exc))
    except ConsentRefused as exc:
        return error_response(409, "consent_mismatch", str(exc))
    except NotAllowed as exc:
        return error_response(409, "not_allowed", str(exc))
    except web.HTTPException as exc:
        if exc.status < 400 or exc.content_type == "text/html":
            raise
        code = {404: "unknown_url", 405: "method_not_allowed"}.get(exc.status, "http_error")
        return error_response(exc.status, code, f"{request.method} {request.path}: {exc.reason}")
    except Exception:
        log.exception("research.unexpected_error")
        return error_response(500, "internal", "woz hit an internal error; it has been logged.")


def requires_key(handler: Handler) -> Handler:
    """The request must carry an app or researcher key; it works in the key's study."""

    async def guarded(request: web.Request) -> web.StreamResponse:
        token = bearer_token(request.headers.get("Authorization"))
        if token is None:
            raise ApiError(401, "missing_api_key", "Send 'Authorization: Bearer <app key>'.")
        info = await request.config_dict[KEYS].verify(token, "app", "researcher")
        if info is None:
            raise ApiError(401, "invalid_api_key", "Unknown key, or not an app/researcher key.")
        if scope_to(request, info) is None:
            raise ApiError(
                401, "invalid_api_key", f"This key's study {info.study_id!r} is not served here."
            )
        request[ACTOR] = f"{info.role}:{info.id}"
        return await handler(request)

    return guarded


async def read_body(request: web.Request, model: type[M]) -> M:
    """The request's JSON body (an empty one is `{}`) as `model`, or a 400 `ApiError`:
    `invalid_json`, or `invalid_request` naming the field at fault."""
    raw = await request.read()
    try:
        body = loads(raw) if raw.strip() else {}
    except ValueError as exc:
        raise ApiError(400, "invalid_json", f"The body is not JSON: {exc}.") from exc
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        param, problem = first_problem(exc, body)
        raise ApiError(400, "invalid_request", f"'{param}' {problem}.") from exc


def _service(request: web.Request) -> tuple[Participants, str]:
    """The participant service and the pseudonym of the `{id}` in the path."""
    participants = runtime_of(request).participants
    external = request.match_info["id"]
    if not external or len(external) > 512:
        raise ApiError(400, "invalid_participant", "The participant id must be 1-512 characters.")
    return participants, participants.pseudonym_of(external)


def page_url(request: web.Request, participants: Participants, participant: str) -> str:
    base = request.config_dict[SETTINGS].public_url or f"{request.scheme}://{request.host}"
    return f"{base.rstrip('/')}{PREFIX}/p/{participants.page_token(participant)}"


async def _status(request: web.Request, status: int = 200) -> web.Response:
    participants, participant = _service(request)
    body = (await participants.status(participant)).model_dump(mode="json")
    if not body["withdrawn"]:
        body["page_url"] = page_url(request, participants, participant)
    return web.json_response(body, status=status)


@requires_key
async def get_study(request: web.Request) -> web.Response:
    study = runtime_of(request).study
    section = study.study
    return web.json_response(
        {
            "id": study.id,
            "title": study.title,
            "deception": section.deception,
            "irb_protocol": section.irb_protocol,
            "consent": {
                "required": section.consent_required,
                "version": section.consent.version,
                "text": section.consent.text.strip(),
                "text_sha256": consent_text_sha256(study),
            },
            "debrief": section.debrief.model_dump(),
            "permitted_uses": list(section.permitted_uses),
            "required_uses": required_uses(study),
            "license": section.data_license,
            "participant_page": {
                "title": study.page_title,
                "description": study.page_description,
            },
        }
    )


@requires_key
async def get_participant(request: web.Request) -> web.Response:
    return await _status(request)


@requires_key
async def post_consent(request: web.Request) -> web.Response:
    grant: ConsentGrant = await read_body(request, ConsentGrant)
    participants, participant = _service(request)
    await participants.consent(participant, grant, request[ACTOR])
    return await _status(request, 201)


@requires_key
async def post_notice(request: web.Request) -> web.Response:
    participants, participant = _service(request)
    await participants.notice(participant, request[ACTOR])
    return await _status(request, 201)


@requires_key
async def post_debrief(request: web.Request) -> web.Response:
    participants, participant = _service(request)
    await participants.debrief(participant, request[ACTOR])
    return await _status(request, 201)


@requires_key
async def post_reconsent(request: web.Request) -> web.Response:
    body: ReconsentBody = await read_body(request, ReconsentBody)
    participants, participant = _service(request)
    await participants.reconsent(participant, body.granted, body.scopes, request[ACTOR])
    return await _status(request, 201)


@requires_key
async def post_withdraw(request: web.Request) -> web.Response:
    participants, participant = _service(request)
    grave = await participants.withdraw(participant, request[ACTOR])
    return web.json_response(
        {
            "participant": participant,
            "withdrawn": True,
            "tombstone": grave.subject,
            "records_deleted": grave.records_deleted,
            "withdrawn_at": grave.withdrawn_at.isoformat(),
        }
    )


def setup_research_api(app: web.Application, *pages: Callable[[web.Application], None]) -> None:
    """Mount the research API under `/woz/`, with `pages` (the participant's own page,
    which the web layer serves) adding their routes beside it."""
    research = web.Application(middlewares=[research_errors])
    research.router.add_get("/study", get_study)
    participant = "/participants/{id}"
    research.router.add_get(participant, get_participant)
    research.router.add_post(participant + "/consent", post_consent)
    research.router.add_post(participant + "/notice", post_notice)
    research.router.add_post(participant + "/debrief", post_debrief)
    research.router.add_post(participant + "/reconsent", post_reconsent)
    research.router.add_post(participant + "/withdraw", post_withdraw)
    for add_routes in pages:
        add_routes(research)
    app.add_subapp(PREFIX, research)
