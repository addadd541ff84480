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


class StudyStates:
    """Each served study's share of the dispatcher's state, so studies never see each
    other's tasks or operators: in Redis the study's own key prefix
    (`<WOZ_REDIS_PREFIX><study id>:`, its channels included), else its own memory.
    A `given` state (tests of several fronts in one process) is used as it is, and not
    closed here."""

    def __init__(self, settings: Settings, given: KeyValue | None = None) -> None:
        self._settings = settings
        self._given = given

    async def open(self, study_id: str) -> KeyValue:
        if self._given is not None:
            return self._given
        prefix = f"{self._settings.redis_prefix}{study_id}:"
        return await open_kv(self._settings.model_copy(update={"redis_prefix": prefix}))

    async def close(self, kv: KeyValue) -> None:
        if kv is not self._given:
            await kv.close()
