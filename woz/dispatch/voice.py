"""Voice sessions: the operator who will answer one hears it from its first utterance.

A Realtime session is a conversation whose tasks arrive only as its participant
finishes each utterance; its operator should hear it before that. So when a
session opens (and as each utterance starts) its operator is chosen as `pump`
would choose for the conversation's next task (the conversation's owner if ready
and connected, else the least loaded ready operator), recorded as the
conversation's owner so that the task follows by affinity, and sent a
`VoiceSession` event, once (`vt:<session>` remembers whom; told again only when
their console connects again). With no operator ready, the session waits in
`VOICE_PENDING` for the first operator to become ready. Everything of a session
goes when it ends (`voice_session_ended`), or with its TTL if its process died.
"""

from __future__ import annotations

import time

from woz.dispatch import docs
from woz.dispatch.assignment import Assignment
from woz.dispatch.backend import VoiceSession
from woz.dispatch.docs import OperatorDoc
from woz.dispatch.kv import Txn
from woz.dispatch.policies import choose_operator
from woz.models.task import Task

VOICE_PENDING = "vp"  # session ids announced to no one yet, by when they asked
SESSION_TTL_S = 3600.0  # what is known of a session, renewed at each of its utterances
PENDING_BATCH = 100  # sessions handed to an operator who becomes ready, at most


def notice_key(session_id: str) -> str:
    return f"vn:{session_id}"


def told_key(session_id: str) -> str:
    """The operator told of the session."""
    return f"vt:{session_id}"


def told_to(operator: str) -> str:
    """The sessions `operator` was told of, for a console that connects again."""
    return f"vo:{operator}"


def _load(op: OperatorDoc) -> tuple[float, float]:
    return (len(op.held) / op.capacity, op.last_assigned)


class VoiceRouting(Assignment):
    """Who hears a voice session live; a part of `woz.dispatch.shared.SharedBackend`."""

    async def voice_session(self, notice: VoiceSession) -> str | None:
        """Choose and tell the operator of `notice.conversation_id` (see the module
        docstring), unless they were told already. None when no one is ready: the
        session then goes to the first operator to become ready."""
        async with self._kv.txn() as t:
            t.put(notice_key(notice.session_id), notice, SESSION_TTL_S)
            chosen = await self._route(t, notice)
            if chosen is None:
                await t.zadd(VOICE_PENDING, notice.session_id, time.time())
            else:
                await t.zrem(VOICE_PENDING, notice.session_id)
            return chosen

    async def voice_session_ended(self, session_id: str) -> None:
        """The session closed: no operator needs to hear of it any more."""
        async with self._kv.txn() as t:
            told = await t.get_text(told_key(session_id))
            if told is not None:
                await t.zrem(told_to(told), session_id)
            t.delete(told_key(session_id))
            t.delete(notice_key(session_id))
            await t.zrem(VOICE_PENDING, session_id)

    async def conversation_owner(self, conversation_id: str) -> str | None:
        """The operator who answers `conversation_id` (or was chosen to), if any."""
        async with self._kv.snapshot() as t:
            return await t.get_text(docs.owner_key(conversation_id))

    async def connect(self, operator: str, display_name: str, front: str) -> list[Task]:
        """As `Assignment.connect`; a console that connects again (a reloaded page) is
        told again of the sessions it was told of, still open."""
        held = await super().connect(operator, display_name, front)
        if await self._kv.first_score(told_to(operator)) is None:
            return held  # told of none: no transaction (the usual case)
        async with self._kv.txn() as t:
            for session_id in await t.zall(told_to(operator)):
                notice = await t.get(notice_key(session_id), VoiceSession)
                if notice is None or await t.get_text(told_key(session_id)) != operator:
                    await t.zrem(told_to(operator), session_id)
                else:
                    t.publish(front, notice.model_copy(update={"operator": operator}))
        return held

    async def ready(self, operator: str, capacity: int) -> None:
        """As `Assignment.ready`; the sessions waiting for an operator are routed now."""
        await super().ready(operator, capacity)
        if await self._kv.first_score(VOICE_PENDING) is None:
            return
        async with self._kv.txn() as t:
            for session_id, _ in await t.zfirst(VOICE_PENDING, PENDING_BATCH):
                notice = await t.get(notice_key(session_id), VoiceSession)
                if notice is None or await self._route(t, notice) is not None:
                    await t.zrem(VOICE_PENDING, session_id)

    async def _route(self, t: Txn, notice: VoiceSession) -> str | None:
        reachable = [op for op in (await self.operators(t)).values() if op.reachable]
        owner = await t.get_text(docs.owner_key(notice.conversation_id))
        op = next((o for o in reachable if o.key_id == owner), None)
        if op is None:  # as `choose_operator`; everyone busy, the least loaded still hears
            op = choose_operator(reachable, None, ()) or min(reachable, key=_load, default=None)
        if op is None or op.front is None:
            return None
        session_id = notice.session_id
        t.put_text(docs.owner_key(notice.conversation_id), op.key_id, docs.OWNER_TTL_S)
        told = await t.get_text(told_key(session_id))
        if op.key_id != told:
            if told is not None:
                await t.zrem(told_to(told), session_id)
            t.publish(op.front, notice.model_copy(update={"operator": op.key_id}))
        t.put_text(told_key(session_id), op.key_id, SESSION_TTL_S)
        await t.zadd(told_to(op.key_id), session_id, time.time(), SESSION_TTL_S)
        return op.key_id
