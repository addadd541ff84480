"""One served study at run time: its definition and everything built from it.

A deployment serves several studies; each request, operator socket, watch view
and participant page works with exactly one `StudyRuntime`, chosen by the key it
authenticates with (or, for the participant page, the study id in its path).
Nothing here is shared between studies but the store, the media folder and the
HTTP session, which key everything by study id themselves.

A runtime outlives a reload of its study file: `swap` replaces the definition and
rebuilds what is derived from it, without awaiting, and keeps the presence log and
the dispatcher with its tasks in flight and operators connected (a new `[routing]`
gets a new dispatcher, which the rules allow only when the study is idle). The
dispatcher reaches the current admission steps and upstream models through this
object, so it sees the new definition at once without being rebuilt. What may change
on a reload is decided by `woz.study.reload`; `woz.served` runs reloads.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING

import aiohttp
import structlog

from woz.assist.upstream import Upstreams
from woz.dispatch.base import Admission, chain
from woz.dispatch.factory import StudyStates
from woz.dispatch.front import Front
from woz.dispatch.kv import KeyValue
from woz.media.files import MediaFolder
from woz.media.speech import StudyVoice, study_voice
from woz.models.study import Study
from woz.models.task import Answer, Task
from woz.research.admission import ResearchAdmission
from woz.research.conditions import Conditions
from woz.research.operators import OperatorRecords
from woz.research.page_sessions import PageSessions
from woz.research.participants import Participants
from woz.research.presence import PresenceLog
from woz.research.recording import StoreRecorder
from woz.research.service import build_research, keep_definition
from woz.store.base import Store
from woz.study.reload import RunningWork

if TYPE_CHECKING:  # the operator hub is above this module; it only fills the dict
    from woz.operators.connection import OperatorConnection

log = structlog.get_logger(__name__)


class StudyRuntime:
    """A served study: its definition, its dispatcher and its research services."""

    def __init__(
        self,
        store: Store,
        study: Study,
        source: Path | None,
        secret: bytes,
        media: MediaFolder,
        kv: KeyValue,
    ) -> None:
        self.store = store
        self.kv = kv  # this study's share of the dispatcher's state (`StudyStates`)
        self.study = study
        self.source = source  # the file it was loaded from; None when given as an object
        self.secret = secret
        self.media = media
        self.recorder = StoreRecorder(store, study, secret)
        # Operators connected to this study, by key id (a second socket replaces the first).
        self.connections: dict[str, OperatorConnection] = {}
        self._admit: Admission | None = None
        self.dispatcher: Front = self.new_dispatcher(study)
        # Set by `_derive` (called by `open_runtime` before the runtime is used).
        self.participants: Participants
        self.page_sessions: PageSessions
        self.admission: ResearchAdmission
        self.presence: PresenceLog
        self.operator_records: OperatorRecords
        self.upstreams: Upstreams
        self.speech: StudyVoice

    @property
    def id(self) -> str:
        return self.study.id

    def _derive(self, study: Study, session: aiohttp.ClientSession) -> None:
        """Build what depends on the definition and swap it in, without awaiting anything
        (so no request sees half of it). Raises `MissingKey` before changing anything."""
        upstreams = Upstreams(study, session)
        research = build_research(
            self.store, study, self.secret, self.recorder.operator_pseudonym, media=self.media
        )
        self.study = study
        self.recorder.study = study
        self.upstreams = upstreams
        self.participants = research.participants
        self.page_sessions = PageSessions(self.store, study)
        self.admission = research.admission
        self.operator_records = research.operators
        if not hasattr(self, "presence"):  # its log is per study id, which never changes
            self.presence = research.presence
        self.speech = study_voice(study, upstreams)
        if self.speech.plan.fallback:
            log.warning("speech.fallback", study=study.id, reason=self.speech.plan.fallback)
        # Research first: a refused task (withdrawn, no consent) gets no arm, and
        # personal data is redacted before anything else reads the messages.
        self._admit = chain([research.admission, Conditions(study, self.store).admit])

    async def work(self, participants: int, participants_with_arms: int) -> RunningWork:
        """What is running now, for `woz.study.reload.refusals`."""
        live = await self.dispatcher.live(max_tasks=1_000_000)
        tasks = [await self.dispatcher.task(task.task_id) for task in live.tasks]
        return RunningWork(
            in_flight_by_persona=Counter(task.persona for task in live.tasks),
            in_flight_by_upstream=Counter(t.upstream for t in tasks if t and t.upstream),
            operators_connected=sum(1 for op in live.operators if op.connected),
            participants=participants,
            participants_with_arms=participants_with_arms,
        )

    def swap(
        self, study: Study, session: aiohttp.ClientSession, dispatcher: Front | None = None
    ) -> Front | None:
        """Serve `study` (same id, judged safe to apply) from now on, synchronously.

        A new `[routing]` comes with a new, opened `dispatcher` (`new_dispatcher`; the
        rules allow it only when the study is idle); the old one is returned for the
        caller to close."""
        retired = None
        self._derive(study, session)
        if dispatcher is not None:
            retired, self.dispatcher = self.dispatcher, dispatcher
        return retired

    def new_dispatcher(self, study: Study) -> Front:
        """This process's front of the study's dispatcher, over the study's own state
        (so its tasks and operators are never another study's). Open it before use."""
        return Front(
            self.kv,
            study.routing,
            self.recorder,
            admit=self._admit_now,
            models=_CurrentModels(self),
        )

    async def _admit_now(self, task: Task) -> Task:
        assert self._admit is not None
        return await self._admit(task)

    async def close(self, states: StudyStates) -> None:
        await self.dispatcher.close()
        await states.close(self.kv)
        await self.recorder.close()
        await self.presence.close()


class _CurrentModels:
    """The runtime's upstream models as they are now (`ModelBackend`): a reload that
    changes an upstream reaches the dispatcher without rebuilding it."""

    def __init__(self, runtime: StudyRuntime) -> None:
        self._runtime = runtime

    async def answer(self, upstream_id: str, task: Task) -> Answer:
        return await self._runtime.upstreams.answer(upstream_id, task)

    async def stream(self, upstream_id: str, task: Task) -> AsyncIterator[str]:
        async for piece in self._runtime.upstreams.stream(upstream_id, task):
            yield piece


async def open_runtime(
    store: Store,
    study: Study,
    source: Path | None,
    media: MediaFolder,
    session: aiohttp.ClientSession,
    states: StudyStates,
) -> StudyRuntime:
    """A runtime for `study`, its secret created on first use (the store is open), its
    dispatcher open over the study's state from `states`."""
    secret = await store.study_secret(study.id, study.study.title)
    kv = await states.open(study.id)
    try:
        runtime = StudyRuntime(store, study, source, secret, media, kv)
        runtime._derive(study, session)
        await runtime.dispatcher.open()
    except BaseException:
        await states.close(kv)
        raise
    await keep_definition(store, study)
    return runtime
