"""The dispatcher's key-value store the settings name: Redis, or this process's memory."""

from __future__ import annotations

from woz.config import Settings
from woz.dispatch.kv import KeyValue
from woz.dispatch.memory_kv import MemoryKeyValue
from woz.dispatch.redis_kv import RedisKeyValue


class RedisUnreachable(Exception):
    """`WOZ_REDIS_URL` names a Redis that does not answer."""


async def open_kv(settings: Settings) -> KeyValue:
    """`RedisKeyValue` when `redis_url` is set (checked with a ping), else memory."""
    if settings.redis_url is None:
        return MemoryKeyValue()
    kv = RedisKeyValue(settings.redis_url, settings.redis_prefix)
    try:
        await kv.ping()
    except Exception as exc:
        await kv.close()
        raise RedisUnreachable(f"Redis at {settings.redis_url} does not answer: {exc}") from exc
    return kv
