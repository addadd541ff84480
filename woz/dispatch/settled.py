"""Answers recently given, kept so that a retry of their request gets them again.

An SDK retries when a response is lost in transit; the retry carries the same
request key (same app key, participant and body). Once every request waiting
for a task has had its answer, the task's whole state (messages, timers,
drafts) is let go and only this small entry stays: the committed answer and
its record. Entries expire `ttl_s` after they were settled, oldest first, with
no timer each, and at most `capacity` are kept; a busy server would otherwise
hold every task of the last ten minutes.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass

from woz.dispatch.base import Delivery

CAPACITY = 50_000  # far above what humans answer in a retry window


@dataclass(slots=True)
class Settled:
    """An answered task, after its last waiting request had it."""

    task_id: str
    delivery: Delivery
    delivered: bool  # some request received it (the record says `delivered`)
    expires_at: float


class SettledAnswers:
    """Settled tasks by request key, each for `ttl_s` seconds."""

    def __init__(self, ttl_s: float, capacity: int = CAPACITY) -> None:
        self._ttl_s = ttl_s
        self._capacity = capacity
        self._by_key: OrderedDict[str, Settled] = OrderedDict()

    def __len__(self) -> int:
        return len(self._by_key)

    def add(self, request_key: str, task_id: str, delivery: Delivery, delivered: bool) -> None:
        self._by_key.pop(request_key, None)  # re-added entries go to the back, in expiry order
        expires_at = time.monotonic() + self._ttl_s
        self._by_key[request_key] = Settled(task_id, delivery, delivered, expires_at)
        self._expire()

    def get(self, request_key: str) -> Settled | None:
        """The entry for `request_key`, unless it has expired."""
        settled = self._by_key.get(request_key)
        if settled is not None and settled.expires_at <= time.monotonic():
            return None  # dropped by the next `add`
        return settled

    def _expire(self) -> None:
        """Drop expired entries (they sit at the front) and any beyond the capacity."""
        now = time.monotonic()
        entries = self._by_key
        while entries and (
            len(entries) > self._capacity or next(iter(entries.values())).expires_at <= now
        ):
            entries.popitem(last=False)
