"""Typed keys for what the application and each request carry."""

from __future__ import annotations

from aiohttp import web

from woz.auth import KeyRing
from woz.config import Settings
from woz.dispatch.base import Dispatcher
from woz.log_summary import AnswerStats
from woz.media import MediaFolder
from woz.models.keys import KeyInfo
from woz.models.study import Study
from woz.recording import StoreRecorder
from woz.research.admission import ResearchAdmission
from woz.research.operators import OperatorRecords
from woz.research.page_sessions import PageSessions
from woz.research.participants import Participants
from woz.research.presence import PresenceLog
from woz.speech import StudyVoice
from woz.store.base import Store
from woz.upstream import Upstreams

SETTINGS = web.AppKey("settings", Settings)
STUDY = web.AppKey("study", Study)
STORE = web.AppKey("store", Store)
STUDY_SECRET = web.AppKey("study_secret", bytes)
KEYS = web.AppKey("keys", KeyRing)
RECORDER = web.AppKey("recorder", StoreRecorder)
DISPATCHER = web.AppKey("dispatcher", Dispatcher)
PARTICIPANTS = web.AppKey("participants", Participants)
PAGE_SESSIONS = web.AppKey("page_sessions", PageSessions)
PRESENCE = web.AppKey("presence", PresenceLog)
MEDIA = web.AppKey("media", MediaFolder)
UPSTREAMS = web.AppKey("upstreams", Upstreams)
ADMISSION = web.AppKey("research_admission", ResearchAdmission)
OPERATOR_RECORDS = web.AppKey("operator_records", OperatorRecords)
SPEECH = web.AppKey("speech", StudyVoice)
ANSWER_STATS = web.AppKey("answer_stats", AnswerStats)

REQUEST_ID = web.RequestKey("request_id", str)
APP_KEY = web.RequestKey("app_key", KeyInfo)
# Set by the participant chat page instead of `APP_KEY`: the pseudonym its cookie
# proves. `intake` then uses it and ignores any participant the request names.
PAGE_PARTICIPANT = web.RequestKey("page_participant", str)
# The task a request submitted (set by `Exchange`): its record's id is derived from it.
SUBMITTED_TASK = web.RequestKey("submitted_task", str)


def app_key(request: web.Request) -> KeyInfo:
    """The verified app key of an API request (set by the auth middleware)."""
    return request[APP_KEY]
