"""The chat page's questionnaires and its thumbs on answers.

| route | what it does |
|---|---|
| `GET /p/{study_id}/questionnaires?when=before` | the questionnaires still to answer then |
| `POST /p/{study_id}/questionnaires/{id}` | `{"answers": {item: value}}`: submit one |
| `POST /p/{study_id}/feedback` | `{"record", "rating": 1 or -1, "comment"?}`: rate an answer |
| `POST /p/{study_id}/read` | `{"record"}`: the page showed the whole answer, in view |

A questionnaire is submitted once (`409 already_submitted` after). Answers the
questionnaire does not accept are `400 invalid_answer`, with the item's id in
`error.param`. The participant's arm decides which questionnaires they get; a
participant of a seeded experiment who has no arm yet is assigned one here, as
their first chat request would. The chat's answers carry their record id in the
`X-Woz-Record` response header (`record_header`), which is what a thumb names.
"""

from __future__ import annotations

from typing import Any, Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from woz.api.research import ApiError, read_body
from woz.context import STORE, SUBMITTED_TASK, runtime_of
from woz.models.questionnaire import Answer, When
from woz.research.participants import Participants
from woz.research.questionnaires import (
    AnswersRefused,
    FeedbackRefused,
    Questionnaires,
    describe,
)
from woz.research.recording import record_id_for
from woz.store.arms import ArmDraw
from woz.web.chat_page.session import ACTOR, PREFIX, page_participant

RECORD_HEADER = "X-Woz-Record"


class AnswersBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    answers: dict[str, Answer | None]


class ReadBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    record: str = Field(min_length=1, max_length=100)


class FeedbackBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    record: str = Field(min_length=1, max_length=100)
    rating: Literal[-1, 1]
    comment: str = Field(default="", max_length=2000)


def _service(request: web.Request) -> Questionnaires:
    return Questionnaires(request.app[STORE], runtime_of(request).study)


async def page_arm(request: web.Request, participant: str) -> str | None:
    """The participant's arm, assigned now if the page's persona is under a seeded
    experiment and they have none yet (with `fixed`, only the app or link assigns)."""
    study, store = runtime_of(request).study, request.app[STORE]
    arm = await store.arm_of(study.id, participant)
    wanted = study.conditions.personas
    under = bool(study.arms) and (not wanted or study.page_persona.id in wanted)
    if arm is not None or not under or study.conditions.assignment == "fixed":
        return arm
    arms = tuple(a.id for a in study.arms)
    draw = ArmDraw(study.conditions.assignment, arms, study.conditions.seed)
    return await store.assign_arm(study.id, participant, draw)


async def _taking_part(request: web.Request) -> tuple[Participants, str]:
    """The page's participant, refused if withdrawn or (where required) not consented."""
    participants, participant = page_participant(request)
    status = await participants.status(participant)
    if status.withdrawn:
        raise ApiError(403, "participant_withdrawn", "You have withdrawn from this study.")
    if status.consent_required and not status.consent_current:
        raise ApiError(403, "consent_required", "Give your consent first.")
    return participants, participant


def _locale(request: web.Request) -> str:
    # The participant's language: the page sends its own (`?locale=`), which follows
    # the study's choice; instruments fall back to English where untranslated.
    locale = request.query.get("locale", "en")
    return locale if locale.isalpha() and len(locale) <= 8 else "en"


async def get_questionnaires(request: web.Request) -> web.Response:
    _, participant = await _taking_part(request)
    when = request.query.get("when")
    if when not in ("before", "after"):
        raise ApiError(400, "invalid_request", "'when' must be 'before' or 'after'.")
    moment: When = "before" if when == "before" else "after"
    arm = await page_arm(request, participant)
    pending = await _service(request).pending(participant, moment, arm)
    locale = _locale(request)
    return web.json_response({"questionnaires": [describe(q, locale) for q in pending]})


async def post_answers(request: web.Request) -> web.Response:
    _, participant = await _taking_part(request)
    service = _service(request)
    questionnaire = service.find(request.match_info["questionnaire"])
    if questionnaire is None:
        raise ApiError(404, "unknown_questionnaire", "This study has no such questionnaire.")
    body: AnswersBody = await read_body(request, AnswersBody)
    arm = await page_arm(request, participant)
    try:
        kept = await service.submit(participant, questionnaire, arm, body.answers, ACTOR)
    except AnswersRefused as refused:
        error: dict[str, Any] = {"code": "invalid_answer", "message": str(refused)}
        if refused.item:
            error["param"] = refused.item
        return web.json_response({"error": error}, status=400)
    if kept is None:
        raise ApiError(409, "already_submitted", "This questionnaire was already submitted.")
    return web.json_response({"submitted": questionnaire.id}, status=201)


async def post_feedback(request: web.Request) -> web.Response:
    _, participant = await _taking_part(request)
    body: FeedbackBody = await read_body(request, FeedbackBody)
    try:
        kept = await _service(request).rate(
            participant, body.record, body.rating, body.comment, ACTOR
        )
    except FeedbackRefused as refused:
        raise ApiError(404, "unknown_record", str(refused)) from refused
    return web.json_response({"record": kept.record_id, "rating": kept.rating}, status=201)


async def post_read(request: web.Request) -> web.Response:
    """The page showed the participant the whole answer (with the page in view)."""
    _, participant = await _taking_part(request)
    body: ReadBody = await read_body(request, ReadBody)
    try:
        await _service(request).read(participant, body.record)
    except FeedbackRefused as refused:
        raise ApiError(404, "unknown_record", str(refused)) from refused
    return web.json_response({"record": body.record}, status=201)


async def record_header(request: web.Request, response: web.StreamResponse) -> None:
    """`on_response_prepare`: the page's chat answers name their record, for a thumb."""
    task_id = request.get(SUBMITTED_TASK)
    if task_id is not None and request.path.startswith(PREFIX + "/"):
        response.headers[RECORD_HEADER] = record_id_for(task_id)


def setup_questionnaires(app: web.Application, page: str) -> None:
    app.router.add_get(page + "/questionnaires", get_questionnaires)
    app.router.add_post(page + "/questionnaires/{questionnaire}", post_answers)
    app.router.add_post(page + "/feedback", post_feedback)
    app.router.add_post(page + "/read", post_read)
    app.on_response_prepare.append(record_header)
