"""The application factory: the served studies (`woz.served`), their store and routes.

Resources live in `cleanup_ctx`, opened when the app starts and closed in
reverse order when it stops, so a test server and `woz serve` share one path.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Iterable
from typing import Any

import aiohttp
import structlog
from aiohttp import web

from woz.api import api_auth, api_errors, setup_api
from woz.api.core.waiting import watch_clients
from woz.api.research import setup_research_api
from woz.auth.origin import same_origin_only
from woz.auth.tokens import KeyRing
from woz.config import Settings
from woz.context import ANSWER_STATS, KEYS, MEDIA, REQUEST_ID, SETTINGS, STORE, STUDIES
from woz.dispatch.factory import StudyStates
from woz.dispatch.kv import KeyValue
from woz.log_summary import AnswerStats, summarise
from woz.media.files import MediaFolder
from woz.models.study import Study
from woz.models.task import new_id
from woz.operators import setup_operators
from woz.served import ServedStudies, StudySources
from woz.store.base import Store
from woz.store.factory import store_for
from woz.web.chat_page import chat_page_errors, chat_page_headers, setup_chat_page
from woz.web.consent_page import setup_participant_page
from woz.web.console import console_headers, setup_console
from woz.web.watch import setup_watch, watch_headers

log = structlog.get_logger(__name__)


def create_app(
    studies: Study | Iterable[Study] | StudySources,
    settings: Settings,
    store: Store | None = None,
    kv: KeyValue | None = None,
) -> web.Application:
    """A woz server for `studies` (one study, several, or their files). With no `store`,
    the one the settings name (`store_for`); with no `kv` (the dispatcher's shared state),
    each study gets its own share of the one they name (`StudyStates`)."""
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
    app[STORE] = store if store is not None else store_for(settings)
    app[MEDIA] = MediaFolder(settings.data / "media", app[STORE])
    app[KEYS] = KeyRing(app[STORE], settings.key_cache_s)
    sources = studies if isinstance(studies, StudySources) else StudySources.of(studies)
    app[STUDIES] = ServedStudies(sources, app[STORE], app[MEDIA], StudyStates(settings, kv))
    app[ANSWER_STATS] = AnswerStats()
    app.cleanup_ctx.append(_resources)
    app.cleanup_ctx.append(_summary)
    app.cleanup_ctx.append(watch_clients)
    app.on_shutdown.append(_end_waiting_requests)
    app.on_response_prepare.append(_response_headers)
    setup_api(app)
    setup_operators(app)
    setup_console(app)
    setup_research_api(app, setup_participant_page)
    setup_chat_page(app)
    setup_watch(app)
    return app


async def _resources(app: web.Application) -> AsyncIterator[None]:
    store = app[STORE]
    await store.open()
    session = aiohttp.ClientSession()
    try:
        await app[STUDIES].open(session)
    except BaseException:
        await app[STUDIES].close()
        await session.close()
        await store.close()
        raise
    try:
        yield
    finally:
        await app[STUDIES].close()
        await session.close()
        await store.close()


async def _summary(app: web.Application) -> AsyncIterator[None]:
    """The periodic `woz.summary` log line (answered, waiting, p50/p99) while serving."""

    async def waiting() -> int:  # across the served studies
        return sum([(await runtime.dispatcher.status()).waiting for runtime in app[STUDIES]])

    task = asyncio.create_task(summarise(app[ANSWER_STATS], waiting, app[SETTINGS].log_summary_s))
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _end_waiting_requests(app: web.Application) -> None:
    """Shutting down: requests still waiting for a human end now, not at their deadline."""
    for runtime in app[STUDIES]:
        await runtime.dispatcher.close()


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
