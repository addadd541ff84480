"""`RedisKeyValue`: the dispatcher's state in Redis, shared by several woz processes.

A transaction holds one lock: first this process's asyncio lock (so one
coroutine per process contends), then a Redis key set with `SET NX PX` and an
owner token, released by a compare-and-delete script; a process that dies
holding it loses it after `LOCK_TTL_MS`. The Redis lock is taken in the same
round trip as the transaction's first read (`SET NX` then the read, pipelined:
Redis runs them in order, so a read behind a `SET` that succeeded is under the
lock; behind one that failed it is dropped and tried again). Documents and set
reads are cached for the transaction; documents put and set changes are
written, with their TTLs, in one MULTI/EXEC pipeline at its end, with the
lock's release and the events it published (PUBLISH on `<prefix>ch:<front>`); a
read of a set with changes waiting sends them in the read's own round trip.
Round trips are what a decision costs here (each is far more client CPU than
Redis work), hence all three.

Every key is under `prefix` (`WOZ_REDIS_PREFIX`, default `woz:`), so several
deployments, or test runs, share one Redis without seeing each other.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import structlog
from pydantic import BaseModel
from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError

from woz.dispatch.backend import EVENT
from woz.dispatch.kv import ChangeListeners, EventHandler, M, StateUnavailable

log = structlog.get_logger(__name__)

LOCK_TTL_MS = 5000
LOCK_BACKOFF_S = (0.0002, 0.0005, 0.001, 0.002, 0.005)
RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""


class RedisTxn:
    """One transaction: cached reads, buffered document writes and set changes.

    `locking` transactions take the lock with their first read (`_read`); a snapshot
    (`locking=False`) reads without it."""

    def __init__(self, kv: RedisKeyValue, locking: bool = True) -> None:
        self._kv = kv
        self._redis = kv.redis
        self._p = kv.prefix
        self.token: str | None = None  # the lock's owner token, once taken
        self._locking = locking
        self._docs: dict[str, Any] = {}  # key -> model, text, or None (absent)
        self._writes: dict[str, tuple[str | None, float]] = {}  # key -> (text or delete, ttl)
        self.events: list[tuple[str, BaseModel]] = []
        self._ops: list[tuple[str, tuple[Any, ...]]] = []  # set changes not yet sent
        self._dirty: set[str] = set()  # the keys they change
        self._sets: dict[tuple[str, str, Any], Any] = {}  # (key, read, args) -> result

    async def _read(self, key: str, method: str, *args: Any, **kwargs: Any) -> Any:
        """One read command, in one round trip with what it needs first: the lock (at
        the transaction's first read) and the changes waiting on `key`."""
        if self._locking and self.token is None and key in self._dirty:
            await self.lock()  # changes are never sent before the lock is ours
        attempt = 0
        while True:
            token = secrets.token_hex(8) if self._locking and self.token is None else None
            if token is None and key not in self._dirty:
                return await getattr(self._redis, method)(*args, **kwargs)
            async with self._redis.pipeline(transaction=False) as pipe:
                if token is not None:
                    pipe.set(self._kv.lock_key, token, nx=True, px=LOCK_TTL_MS)
                if key in self._dirty:
                    self._apply(pipe)
                getattr(pipe, method)(*args, **kwargs)
                results = await pipe.execute()
            if token is None or results[0]:
                self.token = token or self.token
                return results[-1]
            await self._kv.backoff(attempt)
            attempt += 1

    async def lock(self) -> None:
        """Take the Redis lock now (a transaction that writes before it reads)."""
        if self.token is None:
            self.token = await self._kv.acquire()

    async def get(self, key: str, kind: type[M]) -> M | None:
        if key not in self._docs:
            raw = await self._read(key, "get", self._p + key)
            self._docs[key] = None if raw is None else kind.model_validate_json(raw)
        value = self._docs[key]
        return value if isinstance(value, kind) else None

    async def get_many(self, keys: list[str], kind: type[M]) -> list[M | None]:
        missing = [key for key in keys if key not in self._docs]
        if missing:
            raws = await self._read(missing[0], "mget", [self._p + key for key in missing])
            for key, raw in zip(missing, raws, strict=True):
                self._docs[key] = None if raw is None else kind.model_validate_json(raw)
        values = [self._docs[key] for key in keys]
        return [value if isinstance(value, kind) else None for value in values]

    def put(self, key: str, value: BaseModel, ttl_s: float) -> None:
        self._docs[key] = value
        self._writes[key] = ("", ttl_s)  # serialised at the end, as it is then

    def delete(self, key: str) -> None:
        self._docs[key] = None
        self._writes[key] = (None, 0.0)

    async def get_text(self, key: str) -> str | None:
        if key not in self._docs:
            raw = await self._read(key, "get", self._p + key)
            self._docs[key] = None if raw is None else str(raw)
        value = self._docs[key]
        return value if isinstance(value, str) else None

    def put_text(self, key: str, value: str, ttl_s: float) -> None:
        self._docs[key] = value
        self._writes[key] = (value, ttl_s)

    # Set and sorted-set changes wait in `_ops` for the commit's pipeline; a read of a
    # key with changes waiting sends them first, in its round trip, so every read sees
    # the transaction's own changes. A set read again, unchanged since, is not re-read.

    def _defer(self, key: str, method: str, *args: Any) -> None:
        self._ops.append((method, args))
        self._dirty.add(key)
        for cached in [c for c in self._sets if c[0] == key]:
            del self._sets[cached]

    async def _read_set(self, key: str, method: str, *args: Any, **kwargs: Any) -> Any:
        cached = (key, method, (args, tuple(kwargs.items())))
        if cached not in self._sets:
            self._sets[cached] = await self._read(key, method, self._p + key, *args, **kwargs)
        return self._sets[cached]

    def _apply(self, pipe: Any) -> None:
        for method, args in self._ops:
            getattr(pipe, method)(*args)
        self._ops.clear()
        self._dirty.clear()

    async def zadd(self, key: str, member: str, score: float, ttl_s: float | None = None) -> None:
        self._defer(key, "zadd", self._p + key, {member: score})
        if ttl_s is not None:
            self._defer(key, "pexpire", self._p + key, int(ttl_s * 1000))

    async def zrem(self, key: str, member: str) -> None:
        self._defer(key, "zrem", self._p + key, member)

    async def zfirst(self, key: str, count: int) -> list[tuple[str, float]]:
        found: list[Any] = await self._read_set(key, "zrange", 0, count - 1, withscores=True)
        return [(str(member), float(score)) for member, score in found]

    async def zall(self, key: str) -> list[str]:
        return [str(member) for member in await self._read_set(key, "zrange", 0, -1)]

    async def zcard(self, key: str) -> int:
        return int(await self._read_set(key, "zcard"))

    async def zdue(self, key: str, max_score: float, limit: int) -> list[str]:
        found = await self._read_set(key, "zrangebyscore", "-inf", max_score, 0, limit)
        return [str(member) for member in found]

    async def sadd(self, key: str, member: str, ttl_s: float | None = None) -> None:
        self._defer(key, "sadd", self._p + key, member)
        if ttl_s is not None:
            self._defer(key, "pexpire", self._p + key, int(ttl_s * 1000))

    async def srem(self, key: str, member: str) -> None:
        self._defer(key, "srem", self._p + key, member)

    async def smembers(self, key: str) -> set[str]:
        return {str(member) for member in await self._read_set(key, "smembers")}

    async def scard(self, key: str) -> int:
        return int(await self._read_set(key, "scard"))

    def publish(self, channel: str, event: BaseModel) -> None:
        self.events.append((channel, event))

    async def commit(self) -> None:
        """Send the set changes, write the documents put, publish the events for other
        processes, release the lock: one MULTI/EXEC."""
        await self.lock()
        assert self.token is not None
        async with self._redis.pipeline(transaction=True) as pipe:
            self._apply(pipe)
            for key, (text, ttl_s) in self._writes.items():
                if text is None:
                    pipe.delete(self._p + key)
                    continue
                value = self._docs[key]
                data = value if isinstance(value, str) else value.model_dump_json()
                pipe.set(self._p + key, data, px=max(1, int(ttl_s * 1000)))
            for channel, event in self.events:
                if channel not in self._kv.local_channels:
                    pipe.publish(self._kv.channel(channel), event.model_dump_json())
            pipe.eval(RELEASE, 1, self._kv.lock_key, self.token)
            await pipe.execute()


class RedisKeyValue(ChangeListeners):
    """The dispatcher's state for every woz process of one deployment."""

    shared = True

    def __init__(self, url: str, prefix: str = "woz:") -> None:
        super().__init__()
        self.redis: Redis = Redis.from_url(url, decode_responses=True)
        self.prefix = prefix
        self.lock_key = prefix + "lock"
        self.local_channels: dict[str, EventHandler] = {}
        self._local_lock = asyncio.Lock()
        self._pubsub: PubSub | None = None
        self._reader: asyncio.Task[None] | None = None

    def channel(self, name: str) -> str:
        return f"{self.prefix}ch:{name}"

    async def ping(self) -> None:
        await self.redis.ping()

    @asynccontextmanager
    async def txn(self) -> AsyncIterator[RedisTxn]:
        try:
            async with self._local_lock:
                txn = RedisTxn(self)
                try:
                    yield txn
                except BaseException:
                    if txn.token is not None:
                        with contextlib.suppress(RedisError, OSError):
                            await self.redis.eval(RELEASE, 1, self.lock_key, txn.token)
                    raise
                await txn.commit()
        except (RedisError, OSError) as exc:
            raise StateUnavailable(f"Redis does not answer: {exc}") from exc
        for channel, event in txn.events:
            handler = self.local_channels.get(channel)
            if handler is not None:
                handler(event)

    @asynccontextmanager
    async def snapshot(self) -> AsyncIterator[RedisTxn]:
        try:
            yield RedisTxn(self, locking=False)  # never committed: its writes, if any, are dropped
        except (RedisError, OSError) as exc:
            raise StateUnavailable(f"Redis does not answer: {exc}") from exc

    async def acquire(self) -> str:
        """Take the Redis lock; its owner token."""
        token, attempt = secrets.token_hex(8), 0
        while not await self.redis.set(self.lock_key, token, nx=True, px=LOCK_TTL_MS):
            await self.backoff(attempt)
            attempt += 1
        return token

    @staticmethod
    async def backoff(attempt: int) -> None:
        """Wait before trying for the lock again, longer after each failed `attempt`."""
        await asyncio.sleep(LOCK_BACKOFF_S[min(attempt, len(LOCK_BACKOFF_S) - 1)])

    async def first_score(self, key: str) -> float | None:
        try:
            found = await self.redis.zrange(self.prefix + key, 0, 0, withscores=True)
        except (RedisError, OSError) as exc:
            raise StateUnavailable(f"Redis does not answer: {exc}") from exc
        return float(found[0][1]) if found else None

    async def subscribe(self, channel: str, handler: EventHandler) -> None:
        self.local_channels[channel] = handler
        if self._pubsub is None:
            self._pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
        await self._pubsub.subscribe(self.channel(channel))
        if self._reader is None:
            self._reader = asyncio.create_task(self._read())

    async def unsubscribe(self, channel: str) -> None:
        self.local_channels.pop(channel, None)
        if self._pubsub is not None:
            await self._pubsub.unsubscribe(self.channel(channel))

    async def send(self, channel: str, event: BaseModel) -> None:
        # Always through Redis, even to a channel of this process: the processes that
        # subscribed to a stream's channel (its listeners) may be any, this one too.
        try:
            await self.redis.publish(self.channel(channel), event.model_dump_json())
        except (RedisError, OSError) as exc:
            raise StateUnavailable(f"Redis does not answer: {exc}") from exc

    async def _read(self) -> None:
        """Deliver events to this process's fronts; after a lost connection, subscribe
        again (redis-py reconnects) and go on."""
        assert self._pubsub is not None
        by_channel = {self.channel(name): name for name in self.local_channels}
        while True:
            try:
                message = await self._pubsub.get_message(timeout=1.0)
            except (RedisConnectionError, OSError):
                log.warning("redis.pubsub_lost")
                await asyncio.sleep(0.2)
                await self._resubscribe()
                continue
            if message is None:
                continue
            name = by_channel.get(str(message["channel"]))
            if name is None:
                by_channel = {self.channel(n): n for n in self.local_channels}
                name = by_channel.get(str(message["channel"]))
            handler = self.local_channels.get(name or "")
            if handler is not None:
                try:
                    handler(EVENT.validate_json(message["data"]))
                except Exception:
                    log.exception("redis.event_failed", channel=name)

    async def _resubscribe(self) -> None:
        try:
            if self._pubsub is not None:
                await self._pubsub.aclose()
            self._pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
            channels = [self.channel(name) for name in self.local_channels]
            if channels:
                await self._pubsub.subscribe(*channels)
        except (RedisConnectionError, OSError):
            pass  # tried again on the next message

    async def heartbeat(self, name: str, ttl_s: float) -> None:
        try:
            await self.redis.set(self.prefix + name, "1", px=int(ttl_s * 1000))
        except (RedisError, OSError) as exc:
            raise StateUnavailable(f"Redis does not answer: {exc}") from exc

    async def alive(self, name: str) -> bool:
        try:
            return bool(await self.redis.exists(self.prefix + name))
        except (RedisError, OSError) as exc:
            raise StateUnavailable(f"Redis does not answer: {exc}") from exc

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            await asyncio.gather(self._reader, return_exceptions=True)
        if self._pubsub is not None:
            await self._pubsub.aclose()
        await self.redis.aclose()
