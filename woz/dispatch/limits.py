"""How many tasks each participant has in flight, and the 429 past the study's limit.

A task is in flight from its submission until it ends (answered, failed) or
nobody waits for it any more (its client left). One participant's app stuck in
a loop, or a participant opening many tabs, would otherwise fill every
operator's queue; past `[routing] max_in_flight_per_participant` a new request
is refused at once with a rate-limit error and `Retry-After`, which the SDKs
retry. A retry that joins a task in flight is not a new task and is not counted.
Requests that name no participant are not counted here (the queue limit bounds them).
"""

from __future__ import annotations

from woz.errors import ErrorKind, WozError


class InFlight:
    """The tasks in flight per participant pseudonym."""

    def __init__(self, limit: int, retry_after_s: int) -> None:
        self._limit = limit
        self._retry_after_s = retry_after_s
        self._by_participant: dict[str, set[str]] = {}

    def count(self, participant: str) -> int:
        return len(self._by_participant.get(participant, ()))

    def check(self, participant: str | None) -> None:
        """Raise the 429 when `participant` may not start another task now."""
        if participant is None or self.count(participant) < self._limit:
            return
        raise WozError(
            ErrorKind.RATE_LIMIT,
            f"This participant already has {self._limit} requests waiting for an operator "
            "(the study's max_in_flight_per_participant); wait for an answer, then retry.",
            code="rate_limit_exceeded",
            retry_after=self._retry_after_s,
        )

    def update(self, participant: str | None, task_id: str, *, active: bool) -> None:
        """Note whether `task_id` is in flight now; call it after every change that may
        start or end that (idempotent)."""
        if participant is None:
            return
        tasks = self._by_participant.setdefault(participant, set())
        if active:
            tasks.add(task_id)
            return
        tasks.discard(task_id)
        if not tasks:
            del self._by_participant[participant]
