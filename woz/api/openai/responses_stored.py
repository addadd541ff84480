"""Stored and background Responses: `GET`, `DELETE` and `POST .../cancel` on
`/v1/responses/{id}`, and the runner of `background: true` responses.

A human may take minutes to answer. An app that asks for a background response
gets it at once, `queued`, and polls `GET /v1/responses/{id}`: `in_progress` once an
operator has the task, then `completed` (or `incomplete`, `failed`, `cancelled`); `POST
/v1/responses/{id}/cancel` withdraws it. The task is woz's like any other:
queued, assigned, answered, recorded. No connection waits for the answer, so it
counts as delivered once it is stored for retrieval; a cancelled task is taken
back from its operator and recorded `client_gone`, like a client that left.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any, Protocol

import structlog
from aiohttp import web
from pydantic import BaseModel

from woz.api.core.errors import as_client_sees
from woz.context import STORE, runtime_of
from woz.dispatch.base import Dispatcher, TaskHandle
from woz.errors import ErrorKind, WozError, invalid_request
from woz.jsontext import json_response
from woz.models.task import Answer, Message

log = structlog.get_logger(__name__)


class StoredConversation(BaseModel):
    """What is kept of a response beside its object: the conversation it belongs to,
    its turns (history and input, then the answer once there is one), and whether
    it was answered, which a follow-up through `previous_response_id` needs."""

    conversation_id: str
    messages: list[Message]
    answered: bool = True  # kept before there was any other kind


async def load_conversation(request: web.Request, response_id: str) -> StoredConversation | None:
    """The conversation kept for a stored response of the request's study, or None if
    there is no such response. A background response stored before its input was kept
    has none."""
    items = await request.app[STORE].get_response(response_id, runtime_of(request).study.id)
    if items is None:
        return None
    if not items:
        return StoredConversation(conversation_id="", messages=[], answered=False)
    return StoredConversation.model_validate_json(items)


@dataclass(frozen=True)
class BackgroundJob:
    """A background response still running: its runner, and its hold on the task."""

    runner: asyncio.Task[None]
    handle: TaskHandle
    study_id: str


BACKGROUND = web.AppKey("background_responses", dict[str, BackgroundJob])


class BackgroundResponse(Protocol):
    """What the runner needs of a Responses exchange (`openai_responses._Response`)."""

    id: str
    handle: TaskHandle
    dispatcher: Dispatcher

    def unfinished(self, status: str, error: dict[str, str] | None = None) -> dict[str, Any]:
        """The response object without an answer, in `status`."""

    async def store_object(self, response: dict[str, Any]) -> None:
        """Store `response` as the object `GET` returns (no conversation yet)."""

    async def on_answer(self, answer: Answer) -> None:
        """Store the finished response and its conversation."""


async def start_background(request: web.Request, response: BackgroundResponse) -> web.Response:
    """Answer at once with the queued response; the task goes on without the request."""
    queued = response.unfinished("queued")
    try:
        await response.store_object(queued)
    except BaseException:
        response.dispatcher.finish(response.handle, delivered=False)  # nobody else will
        raise
    study = runtime_of(request).study
    runner = asyncio.create_task(_run(response, study.study.deception))
    jobs = request.app[BACKGROUND]
    jobs[response.id] = BackgroundJob(runner, response.handle, study.id)
    runner.add_done_callback(lambda _: jobs.pop(response.id, None))
    return json_response(queued)


async def _run(response: BackgroundResponse, deception: str) -> None:
    """Wait for the answer, store how the response ended, and report it once (a failure
    in the words a client of a study with this deception design is told)."""
    delivered = False
    try:
        # Shielded: cancelling this job must not cancel the dispatcher's future.
        delivery = await asyncio.shield(response.handle.outcome)
        await response.on_answer(delivery.answer)
        delivered = True
    except WozError as error:  # expired, or woz is shutting down
        told = as_client_sees(error, deception)
        failure = {"code": "server_error", "message": told.message}
        await _store_quietly(response, response.unfinished("failed", failure))
    except asyncio.CancelledError:  # `POST .../cancel`
        await _store_quietly(response, response.unfinished("cancelled"))
    except Exception:  # a bug or a failing store: the app must not poll forever
        log.exception("responses.background_failed", response_id=response.id)
        failure = {"code": "server_error", "message": "The response could not be completed."}
        await _store_quietly(response, response.unfinished("failed", failure))
    finally:
        response.dispatcher.finish(response.handle, delivered=delivered)


async def _store_quietly(response: BackgroundResponse, status: dict[str, Any]) -> None:
    try:
        await response.store_object(status)
    except Exception:
        log.exception("responses.background_store_failed", response_id=response.id)


async def retrieve_response(request: web.Request) -> web.StreamResponse:
    """`GET /v1/responses/{id}`: a stored response object, as the app was sent it (or,
    for a background response, as it stands)."""
    response_id = request.match_info["response_id"]
    if request.query.get("stream", "false").lower() not in ("false", "0"):
        raise invalid_request(
            "woz does not replay a response's events: retrieve it without 'stream'.",
            param="stream",
        )
    return await _stored(request, response_id)


async def cancel_response(request: web.Request) -> web.StreamResponse:
    """`POST /v1/responses/{id}/cancel`: withdraw a background response still waiting."""
    response_id = request.match_info["response_id"]
    job = _job(request, response_id)
    if job is None:
        await _stored(request, response_id)  # a 404 if there is no such response
        raise invalid_request(
            "Only a background response that is still queued or in progress can be cancelled.",
            code="response_not_cancellable",
        )
    await _stop(job)
    return await _stored(request, response_id)


async def delete_response(request: web.Request) -> web.StreamResponse:
    """`DELETE /v1/responses/{id}`: forget a stored response and its conversation.

    The research record of the exchange stays (a participant's withdrawal is what
    removes that); a follow-up naming the response is then a 404."""
    response_id = request.match_info["response_id"]
    job = _job(request, response_id)
    if job is not None:  # still waiting: withdraw the task too
        await _stop(job)
    if not await request.app[STORE].delete_response(response_id, runtime_of(request).study.id):
        raise response_not_found(response_id)
    return json_response({"id": response_id, "object": "response", "deleted": True})


def _job(request: web.Request, response_id: str) -> BackgroundJob | None:
    """The running background job of this response, if it is of the request's study."""
    job = request.app[BACKGROUND].get(response_id)
    return job if job is not None and job.study_id == runtime_of(request).study.id else None


async def _stop(job: BackgroundJob) -> None:
    job.runner.cancel()
    await asyncio.wait([job.runner])


async def _stored(request: web.Request, response_id: str) -> web.Response:
    """The stored object; a queued one whose task an operator has is `in_progress`.

    Worked out when asked rather than stored when the task is assigned: no write
    on the answer's path, and a poll right after assignment already sees it."""
    stored = await request.app[STORE].get_response_object(response_id, runtime_of(request).study.id)
    if stored is None:
        raise response_not_found(response_id)
    job = _job(request, response_id)
    if job is not None and job.handle.taken_up:
        response = json.loads(stored)
        if response.get("status") == "queued":
            return json_response({**response, "status": "in_progress"})
    return web.Response(text=stored, content_type="application/json")


def response_not_found(response_id: str) -> WozError:
    return WozError(ErrorKind.NOT_FOUND, f"Response with id '{response_id}' not found.")


async def _finish_background(app: web.Application) -> None:
    """Shutting down, after the dispatcher failed what still waits: let the jobs store
    how their responses ended before the store closes."""
    runners = [job.runner for job in app[BACKGROUND].values()]
    if runners:
        await asyncio.wait(runners, timeout=5)


def setup_background(app: web.Application) -> None:
    app[BACKGROUND] = {}
    app.on_shutdown.append(_finish_background)
