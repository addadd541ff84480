"""Who hears a Realtime session live: its wizard is told of it before its first task.

When a session opens, and as each utterance starts, the dispatcher chooses the
operator who will answer the session's conversation and sends them a
`voice_session` frame (`woz.dispatch.voice`); their console then listens
(`woz.api.realtime.listen`) and hears the first utterance while it is spoken.
Only a participant an operator may see at all is announced (the consent and
withdrawal checks of a first task), and only when an operator will answer them:
not for a persona, or an experiment's arm, that a model answers. Under an
experiment the session's opening is the participant's first sight: their arm is
assigned then, by the rules of a first task (`Conditions.assign`), which later
finds it assigned; one that cannot be (a `fixed` arm the app did not name) is
not announced, and their first task says why.
The work runs beside the session: its audio never waits for the dispatcher, and
a failure only means the wizard hears each utterance from its task, as before.
"""

from __future__ import annotations

import asyncio
import contextlib

import structlog

from woz.dispatch.backend import VoiceSession
from woz.dispatch.base import Dispatcher
from woz.dispatch.kv import StateUnavailable
from woz.research.admission import ResearchAdmission
from woz.research.conditions import Conditions

log = structlog.get_logger(__name__)


class Announcer:
    """Announces one session to its wizard; `announce()` at its opening and at each
    utterance's start, `ended()` when it closes."""

    def __init__(
        self,
        notice: VoiceSession,
        dispatcher: Dispatcher,
        admission: ResearchAdmission,
        conditions: Conditions,
        requested_arm: str | None = None,
    ) -> None:
        self._notice = notice
        self._dispatcher = dispatcher
        self._admission = admission
        self._conditions = conditions
        self._requested_arm = requested_arm  # the app's `X-Woz-Arm`, as its tasks carry
        self._chosen: str | None = None
        self._running: asyncio.Task[None] | None = None

    def announce(self) -> None:
        """Choose and tell the wizard (in the background; at most one at a time)."""
        if self._running is not None and not self._running.done():
            return
        self._running = asyncio.create_task(self._announce())

    async def ended(self) -> None:
        if self._running is not None:
            self._running.cancel()
        with contextlib.suppress(StateUnavailable):
            await self._dispatcher.voice_session_ended(self._notice.session_id)

    async def _announce(self) -> None:
        session_id = self._notice.session_id
        try:
            # Only a participant an operator may see now (consent as for their first
            # task), whose tasks an operator answers (their arm assigned now if need be).
            participant, model = self._notice.participant, self._notice.model
            if not await self._admission.may_see(participant):
                return
            if not await self._conditions.answered_by_people(
                model, participant, self._requested_arm
            ):
                return
            chosen = await self._dispatcher.voice_session(self._notice)
        except StateUnavailable as exc:
            log.warning("realtime.listener_unrouted", session_id=session_id, error=str(exc))
            return
        except Exception:  # the session goes on: its tasks still reach a wizard
            log.exception("realtime.listener_failed", session_id=session_id)
            return
        if chosen is not None and chosen != self._chosen:
            log.info("realtime.listener", session_id=session_id, operator=chosen)
            self._chosen = chosen
