"""A participant's way through the participant page, as the server keeps it.

consent (or refusal) -> before-questionnaire -> chat -> after-questionnaire ->
debrief -> completion. The server keeps the steps that decide what a
participant is owed and what they may still do: when the chat started and
ended (and whether the study's time limit ended it), and the outcome with its
code. Each change is audited. A step taken twice changes nothing the second
time, so a participant who reloads the page, or comes back from their
platform with the same id, carries on where they were.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from woz.models.pseudonyms import tombstone_of
from woz.models.research import Outcome, PageSession
from woz.models.study import Study
from woz.research.recruitment import Arrival, completion_code
from woz.store.arms import ArmDraw
from woz.store.base import Store

# The page's clock and the server's differ a little: a time-limit end that
# arrives this early still counts as the time limit's.
CLOCK_SLACK = timedelta(seconds=5)


class SessionClosed(Exception):
    """A step the session's state no longer allows; `code` names the rule."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class PageSessions:
    """The page sessions of one study's participants."""

    def __init__(self, store: Store, study: Study, actor: str = "participant_page") -> None:
        self._store = store
        self._study = study
        self._actor = actor

    def _new(self, participant: str, arrival: Arrival | None) -> PageSession:
        return PageSession(
            study_id=self._study.id,
            subject=tombstone_of(participant),
            participant=participant,
            platform=self._study.recruitment.platform,
            platform_session=arrival.platform_session if arrival else None,
            platform_study=arrival.platform_study if arrival else None,
            started_at=datetime.now(UTC),
        )

    async def arrive(self, participant: str, arrival: Arrival | None = None) -> PageSession:
        """The participant's session, opened at their first visit.

        A platform session id arriving later (a first visit without one) is kept;
        one already kept never changes. A `fixed` arm named by the link is
        assigned unless the participant has an arm already (an arm never changes).
        A withdrawn participant's pseudonym is stored nowhere again: their session
        is kept (or made) without it, and nothing else is assigned.
        """
        new = self._new(participant, arrival)
        if await self._store.tombstone(self._study.id, new.subject) is not None:
            new.participant = None
            return await self._store.open_page_session(new)
        session = await self._store.open_page_session(new)
        if arrival is None:
            return session
        if session.platform_session is None and arrival.platform_session is not None:
            session.platform_session = arrival.platform_session
            session.platform_study = arrival.platform_study
            await self._store.save_page_session(session)
        if arrival.arm is not None:
            draw = ArmDraw("fixed", (arrival.arm,))
            await self._store.assign_arm(self._study.id, participant, draw)
        return session

    async def of(self, participant: str) -> PageSession:
        """The participant's session, opened now if they have none (a visit without an id
        opens it at its first step, so that a page merely fetched stores nothing)."""
        found = await self.find(participant)
        return found if found is not None else await self.arrive(participant)

    async def find(self, participant: str) -> PageSession | None:
        return await self._store.get_page_session(self._study.id, tombstone_of(participant))

    async def seen(self, participant: str) -> PageSession:
        """The participant's session as the page shows it: the stored one, else a new one
        not stored (nothing has happened yet)."""
        return await self.find(participant) or self._new(participant, None)

    def deadline(self, session: PageSession) -> datetime | None:
        """When the chat must end, by the study's time limit (None: no limit, or no chat yet)."""
        minutes = self._study.recruitment.time_limit_minutes
        if minutes is None or session.chat_started_at is None:
            return None
        return session.chat_started_at + timedelta(minutes=minutes)

    def seconds_left(self, session: PageSession) -> float | None:
        deadline = self.deadline(session)
        if deadline is None:
            return None
        return max(0.0, (deadline - datetime.now(UTC)).total_seconds())

    async def consented(self, session: PageSession, consent_id: str) -> None:
        session.consent_id = consent_id
        await self._store.save_page_session(session)

    async def start_chat(self, participant: str) -> PageSession:
        """The chat begins (after the before-questionnaire): the time limit runs from now.
        `SessionClosed` once the chat has ended or its time is up."""
        session = await self.of(participant)
        if session.outcome is not None or session.chat_ended_at is not None:
            raise SessionClosed("session_ended", "This session has ended.")
        if session.chat_started_at is None:
            session.chat_started_at = datetime.now(UTC)
            await self._store.save_page_session(session)
            await self._audit(session, "page.chat_started")
        deadline = self.deadline(session)
        if deadline is not None and datetime.now(UTC) >= deadline:
            await self.end_chat(participant, "time_limit")
            raise SessionClosed("time_limit_reached", "The time for this chat is up.")
        return session

    async def end_chat(self, participant: str, by: str) -> PageSession:
        """The chat ended, by the participant or by the time limit. The time limit is
        believed only once it has passed (give or take the clocks' difference)."""
        session = await self.of(participant)
        if session.chat_ended_at is not None or session.outcome is not None:
            return session
        deadline = self.deadline(session)
        now = datetime.now(UTC)
        timed_out = by == "time_limit" and deadline is not None and now + CLOCK_SLACK >= deadline
        session.chat_ended_at = now
        session.ended_by = "time_limit" if timed_out else "participant"
        await self._store.save_page_session(session)
        await self._audit(session, "page.chat_ended", ended_by=session.ended_by)
        return session

    async def finish(self, participant: str, outcome: Outcome | None = None) -> PageSession:
        """The session's outcome and its code, fixed once: `screened_out` before any chat,
        else `timed_out` if the time limit ended the chat, else `completed`."""
        session = await self.of(participant)
        if session.outcome is not None:
            return session
        if outcome is None:
            if session.chat_ended_at is None:
                raise SessionClosed("chat_not_ended", "End the chat first.")
            outcome = "timed_out" if session.ended_by == "time_limit" else "completed"
        session.arm = await self._store.arm_of(self._study.id, participant)
        session.outcome = outcome
        session.code = completion_code(self._study, outcome, session.arm)
        session.finished_at = datetime.now(UTC)
        await self._store.save_page_session(session)
        await self._audit(session, "page.finished", outcome=outcome, code=session.code)
        return session

    async def _audit(self, session: PageSession, action: str, **details: object) -> None:
        await self._store.append_audit(
            self._study.id, self._actor, action, session.subject, dict(details)
        )
