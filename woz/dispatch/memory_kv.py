"""`MemoryKeyValue`: the dispatcher's state in this process's memory (the default).

Documents are kept as the objects put, never serialised: one process needs no
copies. Nothing in a transaction suspends (every read returns at once), so no
two transactions interleave on the event loop and no lock is taken. Keys with a
TTL expire lazily: a heap of expiry times is trimmed as transactions end.
"""

from __future__ import annotations

import heapq
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from pydantic import BaseModel

from woz.dispatch.kv import ChangeListeners, EventHandler, M


class _SortedSet:
    """Members with scores; the lowest found through a heap with lazy deletion."""

    def __init__(self) -> None:
        self.scores: dict[str, float] = {}
        self._heap: list[tuple[float, int, str]] = []
        self._seq = 0

    def add(self, member: str, score: float) -> None:
        self.scores[member] = score
        self._seq += 1
        heapq.heappush(self._heap, (score, self._seq, member))
        if len(self._heap) > 2 * len(self.scores) + 64:
            self._rebuild()

    def remove(self, member: str) -> None:
        self.scores.pop(member, None)

    def first(self, count: int) -> list[tuple[str, float]]:
        heap = self._heap
        while heap and self.scores.get(heap[0][2]) != heap[0][0]:
            heapq.heappop(heap)  # removed, or re-added with another score
        if not heap:
            return []
        if count == 1:
            return [(heap[0][2], heap[0][0])]
        return sorted(self.scores.items(), key=lambda item: item[1])[:count]

    def _rebuild(self) -> None:
        self._heap = [(score, i, member) for i, (member, score) in enumerate(self.scores.items())]
        heapq.heapify(self._heap)


class MemoryTxn:
    """A transaction on `MemoryKeyValue`: changes apply at once."""

    def __init__(self, kv: MemoryKeyValue) -> None:
        self._kv = kv
        self.events: list[tuple[str, BaseModel]] = []

    async def get(self, key: str, kind: type[M]) -> M | None:
        value = self._kv.live(key)
        return value if isinstance(value, kind) else None

    async def get_many(self, keys: list[str], kind: type[M]) -> list[M | None]:
        return [await self.get(key, kind) for key in keys]

    def put(self, key: str, value: BaseModel, ttl_s: float) -> None:
        self._kv.set(key, value, ttl_s)

    def delete(self, key: str) -> None:
        self._kv.drop(key)

    async def get_text(self, key: str) -> str | None:
        value = self._kv.live(key)
        return value if isinstance(value, str) else None

    def put_text(self, key: str, value: str, ttl_s: float) -> None:
        self._kv.set(key, value, ttl_s)

    def _zset(self, key: str, create: bool = False) -> _SortedSet:
        """The sorted set at `key`; an empty one, kept only if `create`, when none."""
        zset = self._kv.live(key)
        if not isinstance(zset, _SortedSet):
            zset = _SortedSet()
            if create:
                self._kv.values[key] = zset
        return zset

    async def zadd(self, key: str, member: str, score: float, ttl_s: float | None = None) -> None:
        zset = self._zset(key, create=True)
        zset.add(member, score)
        if ttl_s is not None:
            self._kv.set(key, zset, ttl_s)

    async def zrem(self, key: str, member: str) -> None:
        zset = self._kv.values.get(key)
        if isinstance(zset, _SortedSet):
            zset.remove(member)
            if not zset.scores:
                self._kv.drop(key)

    async def zfirst(self, key: str, count: int) -> list[tuple[str, float]]:
        return self._zset(key).first(count)

    async def zall(self, key: str) -> list[str]:
        scores = self._zset(key).scores
        return sorted(scores, key=scores.__getitem__)

    async def zcard(self, key: str) -> int:
        return len(self._zset(key).scores)

    async def zdue(self, key: str, max_score: float, limit: int) -> list[str]:
        zset = self._zset(key)
        due: list[tuple[str, float]] = []
        while len(due) < limit:
            first = zset.first(1)
            if not first or first[0][1] > max_score:
                break
            due.append(first[0])
            zset.remove(first[0][0])  # taken out to reach the next; put back below
        for member, score in due:
            zset.add(member, score)
        return [member for member, _ in due]

    async def sadd(self, key: str, member: str, ttl_s: float | None = None) -> None:
        members = self._kv.values.get(key)
        if not isinstance(members, set):
            members = self._kv.values[key] = set()
        members.add(member)

    async def srem(self, key: str, member: str) -> None:
        members = self._kv.values.get(key)
        if isinstance(members, set):
            members.discard(member)
            if not members:
                self._kv.drop(key)

    async def smembers(self, key: str) -> set[str]:
        members = self._kv.values.get(key)
        return set(members) if isinstance(members, set) else set()

    async def scard(self, key: str) -> int:
        members = self._kv.values.get(key)
        return len(members) if isinstance(members, set) else 0

    def publish(self, channel: str, event: BaseModel) -> None:
        self.events.append((channel, event))


class MemoryKeyValue(ChangeListeners):
    """The dispatcher's state for one woz process."""

    shared = False

    def __init__(self) -> None:
        super().__init__()
        self.values: dict[str, Any] = {}
        self._expiry: list[tuple[float, str]] = []  # (when, key), a heap
        self._expires_at: dict[str, float] = {}
        self._handlers: dict[str, EventHandler] = {}

    def live(self, key: str) -> Any:
        at = self._expires_at.get(key)
        if at is not None and at <= time.monotonic():
            self.drop(key)
            return None
        return self.values.get(key)

    def set(self, key: str, value: Any, ttl_s: float) -> None:
        self.values[key] = value
        at = time.monotonic() + ttl_s
        if self._expires_at.get(key) != at:
            self._expires_at[key] = at
            heapq.heappush(self._expiry, (at, key))

    def drop(self, key: str) -> None:
        self.values.pop(key, None)
        self._expires_at.pop(key, None)

    def _trim(self) -> None:
        now = time.monotonic()
        heap = self._expiry
        while heap and heap[0][0] <= now:
            at, key = heapq.heappop(heap)
            if self._expires_at.get(key) == at:
                self.drop(key)

    @asynccontextmanager
    async def txn(self) -> AsyncIterator[MemoryTxn]:
        txn = MemoryTxn(self)
        yield txn
        self._trim()
        for channel, event in txn.events:
            handler = self._handlers.get(channel)
            if handler is not None:
                handler(event)

    @asynccontextmanager
    async def snapshot(self) -> AsyncIterator[MemoryTxn]:
        yield MemoryTxn(self)  # reads return at once here: the same as a transaction

    async def first_score(self, key: str) -> float | None:
        zset = self.values.get(key)
        if not isinstance(zset, _SortedSet):
            return None
        first = zset.first(1)
        return first[0][1] if first else None

    async def subscribe(self, channel: str, handler: EventHandler) -> None:
        self._handlers[channel] = handler

    async def unsubscribe(self, channel: str) -> None:
        self._handlers.pop(channel, None)

    async def send(self, channel: str, event: BaseModel) -> None:
        handler = self._handlers.get(channel)
        if handler is not None:
            handler(event)

    async def heartbeat(self, name: str, ttl_s: float) -> None:
        return None  # one process: alive while it runs

    async def alive(self, name: str) -> bool:
        return True

    async def close(self) -> None:
        self._handlers.clear()
