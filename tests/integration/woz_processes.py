"""Real `woz serve` processes on one PostgreSQL schema and one Redis key prefix.

`Deployment` is what the cross-process tests share: a study file, a fresh schema, a
random Redis prefix (its keys deleted at the end), and `start()` for each `woz serve`
process, read until it says where it serves. Keys are made with `woz keys create`,
as a deployment's admin would. A private `redis-server` (`PrivateRedis`) is for the
tests that restart Redis: the shared one is never restarted.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import shutil
import signal
import socket
import sys
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

from tests.contracts.test_dispatcher import REDIS_URL, check_redis, forget_prefix, redis_prefix
from tests.databases import fresh_schema

STUDY = """
[study]
id = "scale-study"
title = "Several processes"

[[personas]]
id = "wizard"

[[personas]]
id = "wizard-live"
live = true

[routing]
answer_timeout_s = 60
reconnect_grace_s = 10

[pacing]
tokens_per_second = 0
first_token_delay_ms = 0
"""


@dataclass
class Server:
    process: asyncio.subprocess.Process
    url: str  # http://host:port
    reading: asyncio.Task[None]  # its output, read so that it never blocks on a full pipe

    @property
    def base_url(self) -> str:
        return self.url + "/v1"


@dataclass
class Deployment:
    folder: Path
    database_url: str
    redis_url: str
    prefix: str
    servers: list[Server] = field(default_factory=list)

    @property
    def study_file(self) -> Path:
        return self.folder / "study.toml"

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "WOZ_DATABASE_URL": self.database_url,
            "WOZ_REDIS_URL": self.redis_url,
            "WOZ_REDIS_PREFIX": self.prefix,
            "WOZ_DISCONNECT_POLL_S": "0.05",
            "WOZ_LOG_LEVEL": "warning",
        }

    async def woz(self, *args: str) -> str:
        """Run a `woz` command on this deployment; its output (it must succeed)."""
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "woz", "--data", str(self.folder / "cli"), *args,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=self.env(),
        )  # fmt: skip
        out, err = await asyncio.wait_for(process.communicate(), 60)
        assert process.returncode == 0, err.decode()
        return out.decode()

    async def key(self, role: str, name: str = "test") -> str:
        created = await self.woz(
            "keys", "create", "--study", str(self.study_file), "--role", role,
            "--name", name, "--json",
        )  # fmt: skip
        token: str = json.loads(created)["token"]
        return token

    async def start(self, *extra: str) -> Server:
        """One more `woz serve` process, once it serves."""
        data = self.folder / f"data{len(self.servers)}"
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "woz", "serve", "--study", str(self.study_file),
            "--data", str(data), "--port", "0", *extra,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT, env=self.env(),
        )  # fmt: skip
        assert process.stdout is not None
        seen = []
        async with asyncio.timeout(60):
            while True:
                line = (await process.stdout.readline()).decode()
                assert line, f"woz serve stopped: {''.join(seen)}"
                seen.append(line)
                found = re.search(r"at (http://\S+)/v1", line)
                if found:
                    break
        server = Server(process, found.group(1), asyncio.create_task(_drain(process)))
        self.servers.append(server)
        return server


async def _drain(process: asyncio.subprocess.Process) -> None:
    """Read what the process prints so that it never blocks on a full pipe."""
    assert process.stdout is not None
    while await process.stdout.readline():
        pass


@contextlib.asynccontextmanager
async def deployment(redis_url: str = REDIS_URL) -> AsyncIterator[Deployment]:
    """A study, a fresh schema and a Redis prefix; every server started is stopped after."""
    if redis_url == REDIS_URL:
        check_redis()
    prefix = redis_prefix()
    folder = Path(tempfile.mkdtemp(prefix="woz-processes-"))
    (folder / "study.toml").write_text(STUDY)
    try:
        with fresh_schema() as url:
            deployed = Deployment(folder, url, redis_url, prefix)
            try:
                yield deployed
            finally:
                for server in deployed.servers:
                    await stop(server)
    finally:
        if redis_url == REDIS_URL:
            forget_prefix(prefix)
        shutil.rmtree(folder, ignore_errors=True)


async def stop(server: Server) -> None:
    if server.process.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            server.process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(server.process.wait(), 15)
        except TimeoutError:
            server.process.kill()
            await server.process.wait()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class PrivateRedis:
    """A `redis-server` of this test's own on a free port, keeping nothing on disk,
    that the test may stop and start again."""

    def __init__(self) -> None:
        self.port = free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="woz-redis-"))
        self._process: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    async def start(self) -> None:
        binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        self._process = await asyncio.create_subprocess_exec(
            binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
            "--appendonly", "no", "--dir", str(self.folder),
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        async with asyncio.timeout(10):
            while True:
                with contextlib.suppress(OSError):
                    _, writer = await asyncio.open_connection("127.0.0.1", self.port)
                    writer.close()
                    return
                await asyncio.sleep(0.05)

    async def stop(self) -> None:
        if self._process is not None:
            self._process.kill()
            await self._process.wait()
            self._process = None

    async def remove(self) -> None:
        await self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)
