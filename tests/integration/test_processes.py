"""`woz serve --workers N`: N processes on one port, refused without PostgreSQL and Redis."""

from __future__ import annotations

import asyncio
import os
import signal
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


async def test_woz_studies_reload_reaches_every_worker() -> None:
    """Each worker reloads the study files: `woz studies reload` reports both, and a
    SIGHUP to the parent is passed on to the workers instead of stopping it."""
    async with deployment() as woz:
        app = await woz.key("app")
        server = await woz.start("--workers", "2")
        run = woz.folder / "data0" / "run"
        # Both workers serve (each writes <pid>.json): polled, as no event crosses into
        # this process when another one has started.
        async with asyncio.timeout(60):
            while len([p for p in run.glob("*.json") if p.stem.isdigit()]) < 2:  # noqa: ASYNC110
                await asyncio.sleep(0.05)
        woz.study_file.write_text(STUDY.replace('"Several processes"', '"Renamed"'))
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "woz", "--data", str(woz.folder / "data0"),
            "studies", "reload", "--timeout", "30",
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=woz.env(),
        )  # fmt: skip
        out, err = await asyncio.wait_for(process.communicate(), 60)
        assert process.returncode == 0, err.decode()
        lines = out.decode().strip().splitlines()
        assert len(lines) == 2 and all(
            line.endswith("study 'scale-study': reloaded") for line in lines
        ), lines
        assert len({line.split(":")[0] for line in lines}) == 2  # two worker pids

        server.process.send_signal(signal.SIGHUP)
        async with openai.AsyncOpenAI(
            base_url=server.base_url, api_key=app, max_retries=0
        ) as client:
            assert [m.id async for m in client.models.list()]  # still serving
        assert server.process.returncode is None
