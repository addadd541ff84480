"""Calls that may be asked for often but should run at most every so often."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable


class Throttled:
    """Runs `action` soon after `request()`, at most once every `interval_s`.

    Requests made while a run is already scheduled join it: a burst of changes
    costs one run, at the end of the interval, with the state as it is then.
    """

    def __init__(self, interval_s: float, action: Callable[[], None]) -> None:
        self._interval_s = interval_s
        self._action = action
        self._pending = False
        self._last_run = 0.0

    def request(self) -> None:
        if self._pending:
            return
        self._pending = True
        wait = self._last_run + self._interval_s - time.monotonic()
        loop = asyncio.get_running_loop()
        if wait <= 0:
            loop.call_soon(self._run)
        else:
            loop.call_later(wait, self._run)

    def _run(self) -> None:
        self._pending = False
        self._last_run = time.monotonic()
        self._action()
