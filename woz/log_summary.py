"""The periodic summary line: what an operator of the service reads instead of a line per task.

Every `log_summary_s` seconds (60 by default) one `woz.summary` event at `info`:
requests answered in the interval, requests waiting for a human now, and the
p50 and p99 of the time from a request's arrival to its answer being sent,
over the interval. Nothing is logged while the server is idle (no answers and
nothing waiting), so a quiet server's log stays quiet.

Latencies go into a histogram of buckets 5% wide, so the figures are within 5%
and the memory is constant whatever the load: one `answered()` call per answer
is a logarithm and a dictionary increment.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Callable

import structlog

log = structlog.get_logger(__name__)

_GROWTH = 1.05  # each bucket 5% wider than the last
_LOG_GROWTH = math.log(_GROWTH)
_FLOOR_MS = 0.01  # latencies below this share the first bucket


class AnswerStats:
    """Counts answered requests and their latencies for one summary interval."""

    def __init__(self) -> None:
        self.answered_count = 0
        self._buckets: dict[int, int] = {}

    def answered(self, seconds: float) -> None:
        """One request answered, `seconds` after it arrived."""
        self.answered_count += 1
        ms = max(seconds * 1000, _FLOOR_MS)
        bucket = int(math.log(ms / _FLOOR_MS) / _LOG_GROWTH)
        self._buckets[bucket] = self._buckets.get(bucket, 0) + 1

    def percentile_ms(self, q: float) -> float | None:
        """The `q`-th percentile (0-100) of the interval's latencies (the upper edge of
        its bucket), or None with no answers."""
        if not self.answered_count:
            return None
        rank = max(1, math.ceil(q / 100 * self.answered_count))
        seen = 0
        for bucket in sorted(self._buckets):
            seen += self._buckets[bucket]
            if seen >= rank:
                return round(_FLOOR_MS * _GROWTH ** (bucket + 1), 2)
        return None  # unreachable: the counts add up to answered_count

    def take(self) -> dict[str, int | float | None]:
        """The interval's figures; the counts start again from zero."""
        figures = {
            "answered": self.answered_count,
            "p50_ms": self.percentile_ms(50),
            "p99_ms": self.percentile_ms(99),
        }
        self.answered_count = 0
        self._buckets = {}
        return figures


async def summarise(
    stats: AnswerStats, waiting: Callable[[], Awaitable[int]], interval_s: float
) -> None:
    """Log `stats` every `interval_s` seconds, forever (cancel to stop); `waiting` says
    how many requests wait for a human now."""
    while True:
        await asyncio.sleep(interval_s)
        figures = stats.take()
        now_waiting = await waiting()
        if figures["answered"] or now_waiting:
            log.info("woz.summary", interval_s=interval_s, waiting=now_waiting, **figures)
