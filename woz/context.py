"""Typed keys for what the application and each request carry.

The application carries what every study shares (settings, store, media, keys) and
the served studies; a request carries the one study it is scoped to (`RUNTIME`),
set where it is authenticated: the API's key, the operator's or researcher's key or
session, the participant page's path. Handlers reach the study only through it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

# Only the keys' types: every layer reads these keys, so this module imports none of
# what they hold at run time (it sits below them all).
if TYPE_CHECKING:
    from woz.auth.tokens import KeyRing
    from woz.config import Settings
    from woz.log_summary import AnswerStats
    from woz.media.files import MediaFolder
    from woz.models.keys import KeyInfo
    from woz.runtime import StudyRuntime
    from woz.served import ServedStudies
    from woz.store.base import Store

SETTINGS: web.AppKey[Settings] = web.AppKey("settings")
STORE: web.AppKey[Store] = web.AppKey("store")
KEYS: web.AppKey[KeyRing] = web.AppKey("keys")
MEDIA: web.AppKey[MediaFolder] = web.AppKey("media")
STUDIES: web.AppKey[ServedStudies] = web.AppKey("studies")
ANSWER_STATS: web.AppKey[AnswerStats] = web.AppKey("answer_stats")

REQUEST_ID: web.RequestKey[str] = web.RequestKey("request_id")
APP_KEY: web.RequestKey[KeyInfo] = web.RequestKey("app_key")
RUNTIME: web.RequestKey[StudyRuntime] = web.RequestKey("study_runtime")
# Set by the participant chat page instead of `APP_KEY`: the pseudonym its cookie
# proves. `intake` then uses it and ignores any participant the request names.
PAGE_PARTICIPANT: web.RequestKey[str] = web.RequestKey("page_participant")
# The task a request submitted (set by `Exchange`): its record's id is derived from it.
SUBMITTED_TASK: web.RequestKey[str] = web.RequestKey("submitted_task")


def app_key(request: web.Request) -> KeyInfo:
    """The verified app key of an API request (set by the auth middleware)."""
    return request[APP_KEY]


def runtime_of(request: web.Request) -> StudyRuntime:
    """The study this request is scoped to (set where it was authenticated)."""
    return request[RUNTIME]


def scope_to(request: web.Request, key: KeyInfo) -> StudyRuntime | None:
    """Scope `request` to the study of `key`; None if this deployment does not serve it."""
    runtime = request.config_dict[STUDIES].get(key.study_id)
    if runtime is not None:
        request[RUNTIME] = runtime
    return runtime
