"""Long computations off the event loop, in threads that never hold up a stopping server.

`asyncio.to_thread` runs on the loop's default executor, whose threads Python
joins at exit: a computation still running then (a megabyte of text being
redacted) would keep a server told to stop alive until it finished. These
threads are daemons instead: the server exits at once, abandoning a result
nobody waits for any more. Only pure computations, which touch nothing but
their arguments and leave nothing half-written, belong here.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


class OffLoop:
    """Runs at most `threads` computations at once; more wait their turn on the loop.

    A turn ends when its thread does, not when its caller stops waiting, so callers
    that leave cannot pile up threads.
    """

    def __init__(self, threads: int) -> None:
        self._turns = asyncio.Semaphore(threads)

    async def run(self, compute: Callable[..., T], *args: Any) -> T:
        """`compute(*args)` in a daemon thread; cancelling the caller abandons it."""
        await self._turns.acquire()
        loop = asyncio.get_running_loop()
        outcome: asyncio.Future[T] = loop.create_future()

        def settle(result: T | None, error: Exception | None) -> None:
            self._turns.release()
            if outcome.done():
                return  # the caller was cancelled
            if error is not None:
                outcome.set_exception(error)
            else:
                outcome.set_result(result)  # type: ignore[arg-type]

        def work() -> None:
            result: T | None = None
            error: Exception | None = None
            try:
                result = compute(*args)
            except Exception as exc:
                error = exc
            # A closed loop: the server stopped, and nobody waits for this any more.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(settle, result, error)

        try:
            threading.Thread(target=work, name="woz-off-loop", daemon=True).start()
        except BaseException:
            self._turns.release()
            raise
        return await outcome
