"""The per-participant count of tasks in flight, and its 429."""

from __future__ import annotations

import pytest

from woz.dispatch.limits import InFlight
from woz.errors import ErrorKind, WozError


def test_limit_counts_tasks_not_updates() -> None:
    """Updates are idempotent; the check refuses only at the limit, and anonymous never."""
    limit = InFlight(limit=2, retry_after_s=7)
    for _ in range(3):
        limit.update("p1", "t1", active=True)
    limit.check("p1")
    limit.update("p1", "t2", active=True)
    with pytest.raises(WozError) as caught:
        limit.check("p1")
    assert caught.value.kind is ErrorKind.RATE_LIMIT and caught.value.retry_after == 7
    assert caught.value.code == "rate_limit_exceeded" and caught.value.status == 429
    limit.check("p2")
    limit.check(None)
    limit.update("p1", "t2", active=False)
    limit.update("p1", "t2", active=False)
    assert limit.count("p1") == 1
    limit.check("p1")
