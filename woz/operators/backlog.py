"""When an operator's socket has fallen too far behind to keep.

An operator whose socket stops taking data (a frozen browser tab, a network cut
that leaves the TCP connection open) would hold the tasks sent to it until the
heartbeat gave up, and the frames meant for it would pile up in memory. Two
rules say when to stop trying, each over the same stall time:

- stalled: frames wait for the socket and not a byte of them has gone out;
- backed up: the backlog (frames queued plus bytes in the socket's buffer) has
  stayed above the bound, although it moves (a reader far too slow to catch up).

The backlog may pass the bound for a moment: a reconnecting operator is sent
every task they hold at once, and a healthy socket drains that in time.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from woz.config import Settings

MIB = 1024 * 1024
CHECKS_PER_STALL = 4  # how finely the stall time is watched


@dataclass(frozen=True)
class SendLimits:
    """How far one operator's socket may fall behind before it is closed."""

    max_backlog_bytes: int
    stall_s: float

    @classmethod
    def of(cls, settings: Settings) -> SendLimits:
        return cls(
            max_backlog_bytes=int(settings.operator_send_buffer_mib * MIB),
            stall_s=settings.operator_stall_s,
        )

    @property
    def check_every_s(self) -> float:
        return self.stall_s / CHECKS_PER_STALL


class BacklogWatch:
    """Samples one socket's progress; `check` says why to give up on it, if it should.

    Progress is a frame finished, or the socket's buffer shrinking since the last
    check (bytes went out). Called every `SendLimits.check_every_s` seconds.
    """

    def __init__(self, limits: SendLimits, clock: Callable[[], float] = time.monotonic) -> None:
        self._limits = limits
        self._clock = clock
        self._progress_at = clock()
        self._over_since: float | None = None
        self._frames_sent = 0
        self._buffered = 0

    def check(self, *, waiting: bool, frames_sent: int, queued: int, buffered: int) -> str | None:
        """`"stalled"`, `"backed_up"` or None, from the socket's state now.

        `waiting`: a frame is being written or queued; `frames_sent`: how many
        were written so far; `queued`: bytes of the frames not yet handed to the
        socket; `buffered`: bytes in the socket's own buffer, not yet sent.
        """
        now = self._clock()
        moved = frames_sent != self._frames_sent or buffered < self._buffered or buffered == 0
        self._frames_sent, self._buffered = frames_sent, buffered
        if moved or not waiting:
            self._progress_at = now
        if queued + buffered <= self._limits.max_backlog_bytes:
            self._over_since = None
        elif self._over_since is None:
            self._over_since = now
        if now - self._progress_at >= self._limits.stall_s:
            return "stalled"
        if self._over_since is not None and now - self._over_since >= self._limits.stall_s:
            return "backed_up"
        return None
