"""Answers recently given, kept so that a retry of their request gets them again.

An SDK retries when a response is lost in transit. Once every request waiting
for a task has had its answer, the task's whole state (messages, timers,
drafts) is let go and only this small entry stays: the committed answer and
its record, under the task's request key (several answers may share one).
Entries expire `ttl_s` after they were settled, oldest first, with no timer
each, and at most `capacity` are kept; a busy server would otherwise hold every
task of the last ten minutes.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass

from woz.dispatch.base import Delivery
from woz.dispatch.keyed import KeyedTasks
from woz.models.task import Task

CAPACITY = 50_000  # far above what humans answer in a retry window


@dataclass(slots=True)
class Settled:
    """An answered task, after its last waiting request had it."""

    task_id: str
    request_key: str
    request_digest: str  # what was asked, for a retry to be checked against
    delivery: Delivery
    delivered: bool  # some request received it (the record says `delivered`)
    expires_at: float


class SettledAnswers:
    """Settled tasks by task id and by request key, each for `ttl_s` seconds."""

    def __init__(self, ttl_s: float, capacity: int = CAPACITY) -> None:
        self._ttl_s = ttl_s
        self._capacity = capacity
        self._by_task: OrderedDict[str, Settled] = OrderedDict()  # in expiry order
        self._by_key = KeyedTasks()

    def __len__(self) -> int:
        return len(self._by_task)

    def add(self, task: Task, delivery: Delivery, delivered: bool) -> None:
        self._drop(task.id)  # re-added entries go to the back, in expiry order
        expires_at = time.monotonic() + self._ttl_s
        self._by_task[task.id] = Settled(
            task.id, task.request_key, task.request_digest, delivery, delivered, expires_at
        )
        self._by_key.add(task.request_key, task.id)
        self._expire()

    def get(self, task_id: str) -> Settled | None:
        """The entry of `task_id`, unless it has expired."""
        settled = self._by_task.get(task_id)
        if settled is not None and settled.expires_at <= time.monotonic():
            return None  # dropped by the next `add`
        return settled

    def for_key(self, request_key: str) -> list[Settled]:
        """The unexpired entries of `request_key`, latest first."""
        found = (self.get(task_id) for task_id in reversed(self._by_key.ids(request_key)))
        return [settled for settled in found if settled is not None]

    def _drop(self, task_id: str) -> None:
        settled = self._by_task.pop(task_id, None)
        if settled is not None:
            self._by_key.discard(settled.request_key, task_id)

    def _expire(self) -> None:
        """Drop expired entries (they sit at the front) and any beyond the capacity."""
        now = time.monotonic()
        entries = self._by_task
        while entries:
            oldest = next(iter(entries.values()))
            if len(entries) <= self._capacity and oldest.expires_at > now:
                return
            self._drop(oldest.task_id)
