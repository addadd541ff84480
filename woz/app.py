"""The application factory: one study, its store, dispatcher and routes.

Resources live in `cleanup_ctx`, opened when the app starts and closed in
reverse order when it stops, so a test server and `woz serve` share one path.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable
from typing import Any

import aiohttp
import structlog
from aiohttp import web

from woz.api import api_auth, api_errors, setup_api
from woz.api.research import setup_research_api
from woz.api.waiting import watch_clients
from woz.auth import KeyRing
from woz.chat_page import chat_page_errors, chat_page_headers, setup_chat_page
from woz.config import Settings
from woz.console import console_headers, setup_console
from woz.context import (
    ADMISSION,
    ANSWER_STATS,
    DISPATCHER,
    KEYS,
    MEDIA,
    OPERATOR_RECORDS,
    PAGE_SESSIONS,
    PARTICIPANTS,
    PRESENCE,
    RECORDER,
    REQUEST_ID,
    SETTINGS,
    STORE,
    STUDY,
    STUDY_SECRET,
    UPSTREAMS,
)
from woz.dispatch.base import Admission, chain
from woz.dispatch.factory import open_kv
from woz.dispatch.front import Front
from woz.dispatch.kv import KeyValue
from woz.log_summary import AnswerStats, summarise
from woz.media import MediaFolder
from woz.models.study import Study
from woz.models.task import new_id
from woz.operators import setup_operators
from woz.origin import same_origin_only
from woz.recording import StoreRecorder
from woz.research.conditions import Conditions
from woz.research.page_sessions import PageSessions
from woz.research.service import open_research
from woz.store.base import Store
from woz.store.factory import store_for
from woz.upstream import MissingKey, Upstreams
from woz.watch import setup_watch, watch_headers

log = structlog.get_logger(__name__)

GIVEN_KV = web.AppKey("given_kv", KeyValue)  # shared state handed in (tests of several fronts)


def create_app(
    study: Study, settings: Settings, store: Store | None = None, kv: KeyValue | None = None
) -> web.Application:
    """A woz server for `study`. With no `store`, the one the settings name (`store_for`);
    with no `kv` (the dispatcher's shared state), the one they name (`open_kv`), which
    the app then closes."""
    app = web.Application(
        client_max_size=settings.max_body_mib * 1024 * 1024,
        middlewares=[
            request_context,
            same_origin_only(),  # before any handler reads a body or a cookie
            chat_page_errors,
            api_errors,
            api_auth,
        ],
    )
    app[SETTINGS] = settings
    app[STUDY] = study
    app[STORE] = store if store is not None else store_for(settings)
    app[MEDIA] = MediaFolder(settings.data / "media", app[STORE])
    if kv is not None:
        app[GIVEN_KV] = kv
    app[ANSWER_STATS] = AnswerStats()
    app.cleanup_ctx.append(_resources)
    app.cleanup_ctx.append(_summary)
    app.cleanup_ctx.append(watch_clients)
    app.on_shutdown.append(_end_waiting_requests)
    app.on_response_prepare.append(_response_headers)
    setup_api(app)
    setup_operators(app)
    setup_console(app)
    setup_research_api(app)
    setup_chat_page(app)
    setup_watch(app)
    return app


async def _resources(app: web.Application) -> AsyncIterator[None]:
    store = app[STORE]
    study = app[STUDY]
    given = app.get(GIVEN_KV)
    kv = given if given is not None else await open_kv(app[SETTINGS])  # first: it may refuse
    try:
        await store.open()
    except BaseException:
        if given is None:
            await kv.close()
        raise
    secret = await store.study_secret(study.id, study.study.title)
    app[STUDY_SECRET] = secret
    app[KEYS] = KeyRing(store, study.id)
    app[RECORDER] = StoreRecorder(store, study, secret)
    session = aiohttp.ClientSession()
    try:
        models = Upstreams(study, session)
    except MissingKey:
        await session.close()
        await store.close()
        if given is None:
            await kv.close()
        raise
    research = await open_research(
        store, study, secret, app[RECORDER].operator_pseudonym, media=app[MEDIA]
    )
    app[PARTICIPANTS] = research.participants
    app[PAGE_SESSIONS] = PageSessions(store, study)
    app[ADMISSION] = research.admission
    app[UPSTREAMS] = models
    app[PRESENCE] = research.presence
    app[OPERATOR_RECORDS] = research.operators
    # Research first: a refused task (withdrawn, no consent) gets no arm, and
    # personal data is redacted before anything else reads the messages.
    admissions: list[Admission] = [research.admission, Conditions(study, store).admit]
    dispatcher = Front(kv, study.routing, app[RECORDER], admit=chain(admissions), models=models)
    await dispatcher.open()
    app[DISPATCHER] = dispatcher
    log.info("woz.started", study=study.id, personas=[p.id for p in study.personas])
    try:
        yield
    finally:
        await dispatcher.close()
        if given is None:
            await kv.close()
        await app[RECORDER].close()
        await research.presence.close()
        await session.close()
        await store.close()


async def _summary(app: web.Application) -> AsyncIterator[None]:
    """The periodic `woz.summary` log line (answered, waiting, p50/p99) while serving."""
    dispatcher = app[DISPATCHER]

    async def waiting() -> int:
        return (await dispatcher.status()).waiting

    task = asyncio.create_task(summarise(app[ANSWER_STATS], waiting, app[SETTINGS].log_summary_s))
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _end_waiting_requests(app: web.Application) -> None:
    """Shutting down: requests still waiting for a human end now, not at their deadline."""
    await app[DISPATCHER].close()


@web.middleware
def request_context(request: web.Request, handler: Any) -> Awaitable[web.StreamResponse]:
    """Give every request an id, bound into every log line it causes.

    Nothing to undo afterwards: aiohttp runs each request in a task of its own, with its
    own copy of the context (aiohttp#3406), so what a request binds ends with it, and a
    keep-alive connection's next request starts clean. So this is not a coroutine: it
    returns the handler's own awaitable, and no frame of it stays alive while a request
    waits for a human."""
    request_id = new_id("req_", 12)
    request[REQUEST_ID] = request_id
    structlog.contextvars.bind_contextvars(request_id=request_id)
    response: Awaitable[web.StreamResponse] = handler(request)
    return response


async def _response_headers(request: web.Request, response: web.StreamResponse) -> None:
    """The request id on every response; the security headers of each browser surface."""
    console_headers.apply(request, response)
    chat_page_headers(request, response)
    watch_headers.apply(request, response)
    request_id = request.get(REQUEST_ID)
    if request_id:
        response.headers["x-request-id"] = request_id
        if request.path.startswith("/v1/messages"):
            response.headers["request-id"] = request_id


__all__ = ["create_app"]
