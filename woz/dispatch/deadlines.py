"""Timeouts of one fixed length for many tasks, on one timer.

Each task in flight has an answer deadline, and a task whose client left is
forgotten after the retry window. A `loop.call_later` each would put one timer
per task into the event loop's heap, where a busy server keeps hundreds of
thousands of them (most cancelled, since most tasks are answered in time) and
every push and pop compares timers in Python. Every timeout here has the same
length, so deadlines fall due in the order they were set: an insertion-ordered
dict holds them, its first entry is the next one due, and a single timer is armed
for it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

# The loop may run a timer this much before its time; an entry due within it counts as due.
EARLY_S = 0.001


class Deadlines:
    """`on_due(key)` runs `timeout_s` after `set(key)`, unless `cancel(key)` came first."""

    def __init__(self, timeout_s: float, on_due: Callable[[str], None]) -> None:
        self._timeout_s = timeout_s
        self._on_due = on_due
        self._due: dict[str, float] = {}  # key -> due on the loop's clock, earliest first
        self._timer: asyncio.TimerHandle | None = None

    def __len__(self) -> int:
        return len(self._due)

    def __contains__(self, key: str) -> bool:
        return key in self._due

    def set(self, key: str) -> None:
        """Start (or restart) `key`'s timeout. Must run on the event loop."""
        self._due.pop(key, None)  # a restarted key moves to the back, keeping the order
        self._due[key] = asyncio.get_running_loop().time() + self._timeout_s
        if self._timer is None:
            self._arm()

    def cancel(self, key: str) -> None:
        """Drop `key`'s timeout; a key with none is ignored.

        The timer stays armed for the old first entry; when it fires with
        nothing due, it re-arms for the new first one.
        """
        self._due.pop(key, None)

    def close(self) -> None:
        """Drop every timeout; none of them will fire."""
        self._due.clear()
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _arm(self) -> None:
        first = next(iter(self._due.values()), None)
        if first is None:
            self._timer = None
            return
        self._timer = asyncio.get_running_loop().call_at(first, self._fire)

    def _fire(self) -> None:
        now = asyncio.get_running_loop().time() + EARLY_S
        due = self._due
        try:
            while due:
                key, at = next(iter(due.items()))
                if at > now:
                    break
                del due[key]
                self._on_due(key)  # may set or cancel other keys
        finally:
            self._arm()  # even after a failing callback, the later keys still fire
