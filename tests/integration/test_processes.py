"""`woz serve --workers N`: N processes on one port, refused without PostgreSQL and Redis."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import openai
import pytest

from tests.integration.woz_processes import STUDY, deployment
from woz.operators.client import OperatorClient

pytestmark = pytest.mark.timeout(180)


async def test_several_workers_without_postgresql_and_redis_are_refused_in_one_line(
    tmp_path: Path,
) -> None:
    study = str(tmp_path / "study.toml")
    (tmp_path / "study.toml").write_text(STUDY)
    env = {k: v for k, v in os.environ.items() if k not in ("WOZ_REDIS_URL", "WOZ_DATABASE_URL")}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "woz", "serve", "--study", study, "--workers", "2",
        "--data", str(tmp_path / "data"),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env,
    )  # fmt: skip
    _, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 2
    [line] = err.decode().strip().splitlines()
    assert line.startswith("woz: --workers 2 needs PostgreSQL and Redis")
    assert "--database-url" in line and "--redis-url" in line


async def test_two_workers_on_one_port_answer_requests_whichever_takes_them() -> None:
    """Every connection lands on either worker; operators and clients meet anyway."""
    async with deployment() as woz:
        app, token = await woz.key("app"), await woz.key("operator", "Olive")
        server = await woz.start("--workers", "2")
        async with (
            OperatorClient(server.url, token) as op,
            openai.AsyncOpenAI(base_url=server.base_url, api_key=app, max_retries=0) as client,
        ):
            await op.ready(capacity=10)
            await op.expect("queue", operators_online=1)

            async def ask(i: int) -> str:
                completion = await client.chat.completions.create(
                    model="wizard", messages=[{"role": "user", "content": f"Q{i}"}]
                )
                return completion.choices[0].message.content or ""

            waiting = [asyncio.create_task(ask(i)) for i in range(8)]
            for _ in waiting:
                task = await op.next_task()
                await op.reply(task["id"], task["messages"][-1]["content"][0]["text"] + "!")
            assert [await w for w in waiting] == [f"Q{i}!" for i in range(8)]
