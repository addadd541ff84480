"""Live servers on an event loop in a thread of its own, for synchronous tests.

Property-based tests (hypothesis) run synchronous test functions, many examples
each, and want one server for a whole module rather than one per example. A
`LoopThread` runs an asyncio loop in a background thread: `serve` starts an aiohttp
app on a real socket there, `entered` enters an async context manager there (such
as `start_woz`), and `call` runs any coroutine there and waits for its result. The
tests talk to the servers with a blocking HTTP client.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Coroutine, Iterator
from contextlib import AbstractAsyncContextManager
from typing import Any, TypeVar

from aiohttp import web
from aiohttp.test_utils import TestServer

from tests.conftest import Woz, start_woz

T = TypeVar("T")
WAIT_S = 60


class LoopThread:
    """An asyncio event loop running in a background thread until `close`."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="test-servers")
        self._thread.start()

    def call(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run `coroutine` on the thread's loop and wait for its result."""
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(WAIT_S)

    @contextlib.contextmanager
    def entered(self, manager: AbstractAsyncContextManager[T]) -> Iterator[T]:
        """`manager`, entered and (at the end of the block) exited on the thread's loop."""
        value = self.call(manager.__aenter__())
        try:
            yield value
        finally:
            self.call(manager.__aexit__(None, None, None))

    @contextlib.contextmanager
    def serving(self, app: web.Application) -> Iterator[TestServer]:
        """`app` on a real socket until the end of the block."""
        server = self.call(serve(app))
        try:
            yield server
        finally:
            self.call(server.close())

    def close(self) -> None:
        self.call(self.loop.shutdown_asyncgens())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(WAIT_S)
        self.loop.close()


async def serve(app: web.Application) -> TestServer:
    server = TestServer(app)
    await server.start_server()
    return server


@contextlib.contextmanager
def threaded_woz(study_toml: str) -> Iterator[tuple[LoopThread, Woz]]:
    """A live woz for `study_toml` (as the `woz` fixture's) served from a `LoopThread`."""
    thread = LoopThread()
    try:
        with thread.entered(start_woz(serve, study_toml)) as woz:
            yield thread, woz
    finally:
        thread.close()
