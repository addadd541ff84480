"""`woz serve --workers N`: N server processes on one port.

Each worker is a whole woz server (its own event loop, front and store pool);
they share the port through `SO_REUSEPORT` (aiohttp's `reuse_port`), so the
kernel spreads connections over them, and share everything else through
PostgreSQL (the store) and Redis (the dispatcher). Without both, several
processes would each keep their own queue and data: refused.

The parent checks both servers once (so a bad URL is one line, not N), starts
the workers, forwards SIGINT and SIGTERM to them and waits for them. A worker
that dies is not replaced: the others go on serving, and the operators and
requests it held move to them (`woz.dispatch`); run woz under a supervisor
(systemd, a container runtime) to restart the whole.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import socket
import time
from collections.abc import Callable
from multiprocessing.process import BaseProcess
from types import FrameType

from woz.config import Settings
from woz.dispatch.factory import open_kv
from woz.store.factory import store_for

STOP_WAIT_S = 30.0  # a worker still stopping this long after the signal is killed


class WorkersRefused(Exception):
    """`--workers` cannot be honoured with these settings."""


def check_workers(workers: int, settings: Settings) -> None:
    """Refuse N > 1 without both shared servers, saying which is missing."""
    if workers < 1:
        raise WorkersRefused(f"--workers must be 1 or more (got {workers})")
    if workers == 1:
        return
    missing = [
        flag
        for flag, value in (
            ("--database-url (or WOZ_DATABASE_URL)", settings.database_url),
            ("--redis-url (or WOZ_REDIS_URL)", settings.redis_url),
        )
        if value is None
    ]
    if missing:
        raise WorkersRefused(
            f"--workers {workers} needs PostgreSQL and Redis shared by every process; set "
            + " and ".join(missing)
            + " (without them each process would keep its own queue and data)"
        )


async def preflight(settings: Settings) -> None:
    """Open and close the store (migrating it) and ping Redis, once, before any worker."""
    kv = await open_kv(settings)
    await kv.close()
    store = store_for(settings)
    await store.open()
    await store.close()


def free_port(host: str) -> int:
    """A port free on `host` now, for workers told `--port 0`: they must share one."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port


def run_workers(workers: int, target: Callable[..., None], args: tuple[object, ...]) -> int:
    """Start `workers` processes running `target(index, *args)`; wait for them all.

    Returns the first non-zero exit code of a worker, else 0."""
    context = multiprocessing.get_context("spawn")
    processes: list[BaseProcess] = []
    for index in range(workers):
        started = context.Process(target=target, args=(index, *args), name=f"woz-worker-{index}")
        started.start()
        processes.append(started)

    stopping_since: float | None = None

    def forward(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping_since
        if signum == signal.SIGHUP:  # a reload: every worker re-reads its study files
            for process in processes:
                if process.is_alive() and process.pid is not None:
                    os.kill(process.pid, signal.SIGHUP)
            return
        stopping_since = stopping_since or time.monotonic()
        for process in processes:
            if process.is_alive() and process.pid is not None:
                if signum == signal.SIGTERM:
                    process.terminate()
                else:
                    _interrupt(process)

    previous = {
        sig: signal.signal(sig, forward) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    }
    try:
        while any(process.is_alive() for process in processes):
            for process in processes:
                process.join(timeout=0.5)
            if stopping_since is not None and time.monotonic() - stopping_since > STOP_WAIT_S:
                for process in processes:
                    if process.is_alive():  # its shutdown hangs: no worker outlives the parent
                        process.kill()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    codes = [process.exitcode or 0 for process in processes]
    return next((code for code in codes if code not in (0, -signal.SIGTERM)), 0)


def _interrupt(process: BaseProcess) -> None:
    assert process.pid is not None
    os.kill(process.pid, signal.SIGINT)


__all__ = ["WorkersRefused", "check_workers", "free_port", "preflight", "run_workers"]
