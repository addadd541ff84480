"""Who hears a Realtime session live: its wizard is told of it before its first task.

When a session opens, and as each utterance starts, the dispatcher chooses the
operator who will answer the session's conversation and sends them a
`voice_session` frame (`woz.dispatch.voice`); their console then listens
(`woz.api.realtime.listen`) and hears the first utterance while it is spoken.
Only a participant an operator may see at all is announced (the consent and
withdrawal checks of a first task), and never for a persona a model answers.
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

log = structlog.get_logger(__name__)


class Announcer:
    """Announces one session to its wizard; `announce()` at its opening and at each
    utterance's start, `ended()` when it closes."""

    def __init__(
        self,
        notice: VoiceSession,
        dispatcher: Dispatcher,
        admission: ResearchAdmission,
        *,
        enabled: bool,
    ) -> None:
        self._notice = notice
        self._dispatcher = dispatcher
        self._admission = admission
        self._enabled = enabled  # off for a persona a model answers
        self._chosen: str | None = None
        self._running: asyncio.Task[None] | None = None

    def announce(self) -> None:
        """Choose and tell the wizard (in the background; at most one at a time)."""
        if not self._enabled or (self._running is not None and not self._running.done()):
            return
        self._running = asyncio.create_task(self._announce())

    async def ended(self) -> None:
        if self._running is not None:
            self._running.cancel()
        if self._enabled:
            with contextlib.suppress(StateUnavailable):
                await self._dispatcher.voice_session_ended(self._notice.session_id)

    async def _announce(self) -> None:
        session_id = self._notice.session_id
        try:
            # Only a participant an operator may see now: consent as for their first task.
            if not await self._admission.may_see(self._notice.participant):
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
