"""The key-value seam under the dispatcher's shared state.

The dispatcher's rules (`woz.dispatch.rules`) are written once, over this small
protocol, and run in whichever woz process acted. Two implementations:
`MemoryKeyValue` (one process, objects kept as they are) and `RedisKeyValue`
(several processes on one Redis).

Concurrency: every change happens inside `txn()`, which holds the one lock of
the dispatcher's state: an in-process lock for memory (where nothing inside a
transaction suspends, so it is free), a Redis lock with an owner token and a
TTL for Redis. Documents read in a transaction are the caller's to change and
`put` back; a document changed and not put back is not changed in Redis, so the
rules always put what they change.

Events published in a transaction reach their channel's subscriber after the
transaction ends, in the order published.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Protocol, TypeVar

from pydantic import BaseModel

M = TypeVar("M", bound=BaseModel)


class StateUnavailable(Exception):
    """The shared state cannot be reached now (its Redis is down or restarting)."""


EventHandler = Callable[[BaseModel], None]


class Txn(Protocol):
    """One transaction over the dispatcher's state (the lock is held throughout)."""

    async def get(self, key: str, kind: type[M]) -> M | None: ...

    async def get_many(self, keys: list[str], kind: type[M]) -> list[M | None]: ...

    def put(self, key: str, value: BaseModel, ttl_s: float) -> None: ...

    def delete(self, key: str) -> None: ...

    async def get_text(self, key: str) -> str | None: ...

    def put_text(self, key: str, value: str, ttl_s: float) -> None: ...

    async def zadd(
        self, key: str, member: str, score: float, ttl_s: float | None = None
    ) -> None: ...

    async def zrem(self, key: str, member: str) -> None: ...

    async def zfirst(self, key: str, count: int) -> list[tuple[str, float]]:
        """The `count` members of lowest score, lowest first."""

    async def zall(self, key: str) -> list[str]:
        """Every member, lowest score first."""

    async def zcard(self, key: str) -> int: ...

    async def zdue(self, key: str, max_score: float, limit: int) -> list[str]:
        """Members scored at most `max_score`, lowest first, at most `limit`."""

    async def sadd(self, key: str, member: str, ttl_s: float | None = None) -> None: ...

    async def srem(self, key: str, member: str) -> None: ...

    async def smembers(self, key: str) -> set[str]: ...

    async def scard(self, key: str) -> int: ...

    def publish(self, channel: str, event: BaseModel) -> None: ...


class KeyValue(Protocol):
    """Where the dispatcher's shared state lives. `shared` says whether other
    processes see it too (they then need heartbeats and polling)."""

    shared: bool

    def txn(self) -> AbstractAsyncContextManager[Txn]: ...

    def snapshot(self) -> AbstractAsyncContextManager[Txn]:
        """Reads without the lock (figures, the watch view): never queued behind the
        decisions waiting for it. Nothing written in it is kept."""

    async def first_score(self, key: str) -> float | None:
        """The lowest score in a sorted set, read without the lock (a peek)."""

    def listen(self, callback: Callable[[], None]) -> None:
        """Call `callback` after `changed()` (fronts of this process; others poll)."""

    def changed(self) -> None:
        """The queue, presence or timers changed in this process."""

    async def subscribe(self, channel: str, handler: EventHandler) -> None:
        """Deliver the events published to `channel` to `handler` (on this process's loop)."""

    async def unsubscribe(self, channel: str) -> None: ...

    async def send(self, channel: str, event: BaseModel) -> None:
        """Publish `event` to `channel` at once, outside any transaction (no lock): for
        streams whose order matters within the channel only (a voice session's audio).
        Raises `StateUnavailable` when the state cannot be reached."""

    async def heartbeat(self, name: str, ttl_s: float) -> None:
        """Say that `name` is alive for `ttl_s` more seconds."""

    async def alive(self, name: str) -> bool: ...

    async def close(self) -> None: ...


class ChangeListeners:
    """`listen` and `changed` of a `KeyValue`: the fronts of this process hear at once."""

    def __init__(self) -> None:
        self._listeners: list[Callable[[], None]] = []

    def listen(self, callback: Callable[[], None]) -> None:
        self._listeners.append(callback)

    def changed(self) -> None:
        for callback in self._listeners:
            callback()
