"""Recording operator presence for the labor ledger: available, paused, offline.

The operator hub calls `mark` when an operator says `ready` (available), says
`pause` (paused) or their socket closes (offline). Only changes are stored, each
with its time, under the operator's per-study pseudonym. When the server
stops, `close` marks everyone still present offline, so no shift is left open.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import structlog

from woz.models.research import PresenceEvent, PresenceState
from woz.store.base import Store

log = structlog.get_logger(__name__)


class PresenceLog:
    def __init__(self, store: Store, study_id: str, pseudonym: Callable[[str], str]) -> None:
        self._store = store
        self._study_id = study_id
        self._pseudonym = pseudonym
        self._state: dict[str, PresenceState] = {}

    async def mark(
        self, operator_key_id: str, state: PresenceState, at: datetime | None = None
    ) -> None:
        """Note the operator's new state; a repeat of the current state is not stored."""
        if self._state.get(operator_key_id, "offline") == state:
            return
        self._state[operator_key_id] = state
        if state == "offline":
            del self._state[operator_key_id]
        event = PresenceEvent(
            study_id=self._study_id,
            operator=self._pseudonym(operator_key_id),
            state=state,
            at=at or datetime.now(UTC),
        )
        try:
            await self._store.add_presence(event)
        except Exception:  # the ledger must never cost an operator their connection
            log.exception("presence.write_failed", state=state)

    async def close(self) -> None:
        """Everyone still present goes offline now (the server is stopping)."""
        for operator_key_id in list(self._state):
            await self.mark(operator_key_id, "offline")
