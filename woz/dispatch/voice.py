"""Voice sessions: the operator who will answer one hears it from its first utterance.

A Realtime session is a conversation whose tasks arrive only as its participant
finishes each utterance; its operator should hear it before that. So when a
session opens (and as each utterance starts) its operator is chosen as `pump`
would choose for the conversation's next task (the conversation's owner if ready
and connected, else the least loaded ready operator), recorded as the
conversation's owner so that the task follows by affinity, and sent a
`VoiceSession` event, once (`vt:<session>` remembers whom). With no operator
ready, the session waits in `VOICE_PENDING` for the first operator to become
ready, until it ends (`voice_session_ended`) or its notice's TTL runs out.
"""

from __future__ import annotations

import time

from woz.dispatch import docs
from woz.dispatch.assignment import Assignment
from woz.dispatch.backend import VoiceSession
from woz.dispatch.docs import OperatorDoc
from woz.dispatch.kv import Txn
from woz.dispatch.policies import choose_operator

VOICE_PENDING = "vp"  # session ids announced to no one yet, by when they asked
PENDING_TTL_S = 3600.0
PENDING_BATCH = 100  # sessions handed to an operator who becomes ready, at most


def pending_key(session_id: str) -> str:
    return f"vn:{session_id}"


def told_key(session_id: str) -> str:
    return f"vt:{session_id}"


def _load(op: OperatorDoc) -> tuple[float, float]:
    return (len(op.held) / op.capacity, op.last_assigned)


class VoiceRouting(Assignment):
    """Who hears a voice session live; a part of `woz.dispatch.shared.SharedBackend`."""

    async def voice_session(self, notice: VoiceSession) -> str | None:
        """Choose and tell the operator of `notice.conversation_id` (see the module
        docstring), unless they were told already. None when no one is ready: the
        session then goes to the first operator to become ready."""
        async with self._kv.txn() as t:
            told = await t.get_text(told_key(notice.session_id))
            chosen = await self._route(t, notice, told)
            if chosen is None:
                t.put(pending_key(notice.session_id), notice, PENDING_TTL_S)
                await t.zadd(VOICE_PENDING, notice.session_id, time.time())
            elif await t.get(pending_key(notice.session_id), VoiceSession) is not None:
                await self._forget_pending(t, notice.session_id)
            return chosen

    async def voice_session_ended(self, session_id: str) -> None:
        """The session closed: no operator needs to hear of it any more."""
        async with self._kv.txn() as t:
            t.delete(told_key(session_id))
            if await t.get(pending_key(session_id), VoiceSession) is not None:
                await self._forget_pending(t, session_id)

    async def conversation_owner(self, conversation_id: str) -> str | None:
        """The operator who answers `conversation_id` (or was chosen to), if any."""
        async with self._kv.snapshot() as t:
            return await t.get_text(docs.owner_key(conversation_id))

    async def ready(self, operator: str, capacity: int) -> None:
        await super().ready(operator, capacity)
        if await self._kv.first_score(VOICE_PENDING) is None:
            return
        async with self._kv.txn() as t:
            for session_id, _ in await t.zfirst(VOICE_PENDING, PENDING_BATCH):
                notice = await t.get(pending_key(session_id), VoiceSession)
                if notice is None or await self._route(t, notice, None) is not None:
                    await self._forget_pending(t, session_id)

    async def _route(self, t: Txn, notice: VoiceSession, already: str | None) -> str | None:
        reachable = [op for op in (await self.operators(t)).values() if op.reachable]
        owner = await t.get_text(docs.owner_key(notice.conversation_id))
        op = next((o for o in reachable if o.key_id == owner), None)
        if op is None:  # as `choose_operator`; everyone busy, the least loaded still hears
            op = choose_operator(reachable, None, ()) or min(reachable, key=_load, default=None)
        if op is None or op.front is None:
            return None
        t.put_text(docs.owner_key(notice.conversation_id), op.key_id, docs.OWNER_TTL_S)
        if op.key_id != already:
            t.publish(op.front, notice.model_copy(update={"operator": op.key_id}))
            t.put_text(told_key(notice.session_id), op.key_id, PENDING_TTL_S)
        return op.key_id

    async def _forget_pending(self, t: Txn, session_id: str) -> None:
        t.delete(pending_key(session_id))
        await t.zrem(VOICE_PENDING, session_id)
