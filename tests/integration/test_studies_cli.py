"""`woz serve` with two study files as a real process: reloading them (SIGHUP and
`woz studies reload`), refusals that protect running work, `woz studies list`, and
`woz keys list` / `woz keys revoke`."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import openai
import pytest

from tests.conftest import ask
from tests.integration.test_cli import WOZ, run
from woz.testing import ScriptedOperator

ALPHA = """
[study]
id = "alpha"
title = "Alpha"
consent_required = false

[study.consent]
text = "You chat with a prototype."

[[personas]]
id = "wizard"

[[personas]]
id = "extra"

[routing]
reconnect_grace_s = 1

[pacing]
tokens_per_second = 0
first_token_delay_ms = 0
"""
BETA = ALPHA.replace('id = "alpha"', 'id = "beta"').replace('"Alpha"', '"Beta"')


@dataclass
class Server:
    process: asyncio.subprocess.Process
    url: str
    data: Path
    log: list[str]  # the server's log lines (stderr), as read so far

    async def log_line(self, pattern: str) -> str:
        """The next log line matching `pattern`, waiting for it."""
        assert self.process.stderr is not None
        async with asyncio.timeout(30):
            while True:
                line = (await self.process.stderr.readline()).decode()
                assert line, "the server ended"
                self.log.append(line)
                if re.search(pattern, line):
                    return line


async def key(data: Path, study: str, role: str) -> dict[str, str]:
    # The global option after the subcommand here, before it elsewhere: both work.
    code, out, err = await run(
        "keys", "create", "--study", study, "--role", role, "--json", "--data", str(data)
    )
    assert code == 0, err
    created: dict[str, str] = json.loads(out)
    return created


@contextlib.asynccontextmanager
async def serving(tmp_path: Path) -> AsyncIterator[Server]:
    data = tmp_path / "data"
    (tmp_path / "alpha.toml").write_text(ALPHA)
    (tmp_path / "beta.toml").write_text(BETA)
    process = await asyncio.create_subprocess_exec(
        *WOZ,
        "serve",
        "--study",
        str(tmp_path / "alpha.toml"),
        "--study",
        str(tmp_path / "beta.toml"),
        "--data",  # after the subcommand (DESIGN 4.4)
        str(data),
        "--port",
        "0",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "WOZ_KEY_CACHE_S": "0"},
    )
    assert process.stdout is not None
    try:
        async with asyncio.timeout(30):
            serving = (await process.stdout.readline()).decode()
        base = re.search(r"serving studies 'alpha', 'beta' at (http://\S+)/v1", serving)
        assert base, serving
        yield Server(process, base[1], data, [])
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), 20)
            except TimeoutError:
                process.kill()
                await process.wait()


def sdk(server: Server, token: str) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=server.url + "/v1", api_key=token, max_retries=0)


async def study_title(server: Server, token: str) -> str:
    headers = {"Authorization": f"Bearer {token}"}
    async with (
        aiohttp.ClientSession() as session,
        session.get(server.url + "/woz/study", headers=headers) as response,
    ):
        title: str = (await response.json())["title"]
        return title


@pytest.mark.timeout(120)
async def test_reload_applies_safe_edits_and_refuses_breaking_ones(
    tmp_path: Path, database_url: str | None
) -> None:
    """SIGHUP and `woz studies reload` apply an edit; removing a model with a task in
    flight, or changing the consent text once there are participants, is refused with
    the reason, and the study keeps running as it was."""
    data = tmp_path / "data"
    (tmp_path / "alpha.toml").write_text(ALPHA)
    (tmp_path / "beta.toml").write_text(BETA)
    alpha_app = await key(data, str(tmp_path / "alpha.toml"), "app")
    alpha_op = await key(data, str(tmp_path / "alpha.toml"), "operator")
    beta_app = await key(data, str(tmp_path / "beta.toml"), "app")
    async with serving(tmp_path) as server:
        code, out, err = await run("--data", str(data), "studies", "list")
        assert code == 0, err
        pid = server.process.pid
        assert re.search(rf"(?m)^alpha\s+Alpha\s+0\s+2\s+pid {pid}$", out), out
        assert re.search(rf"(?m)^beta\s+Beta\s+0\s+1\s+pid {pid}$", out), out

        # A safe edit, by SIGHUP.
        (tmp_path / "beta.toml").write_text(BETA.replace('"Beta"', '"Beta, renamed"'))
        server.process.send_signal(signal.SIGHUP)
        line = await server.log_line(r'"study": ?"beta".*"event": ?"study.reload"')
        assert json.loads(line[line.index("{") :])["outcome"] == "reloaded"
        assert await study_title(server, beta_app["token"]) == "Beta, renamed"

        # A model removed while a task for it is in flight: refused, and answered still.
        op = ScriptedOperator(server.url, alpha_op["token"])
        await op.connect()
        await op.ready()
        await op.expect("queue", operators_online=1)
        async with sdk(server, alpha_app["token"]) as client:
            pending = ask(
                client, "still there?", model="extra", extra_headers={"X-Woz-Participant": "u1"}
            )
            task = await op.next_task()
            (tmp_path / "alpha.toml").write_text(ALPHA.replace('[[personas]]\nid = "extra"\n', ""))
            code, out, err = await run("studies", "reload", "--data", str(data))
            assert code == 2
            assert (
                f"pid {pid}: study 'alpha': refused: model 'extra' was removed, but 1 task(s)"
                in out
            )
            assert f"pid {pid}: study 'beta': unchanged" in out
            assert err == "woz: 1 change(s) refused; those studies stay as they were\n"
            await op.reply(task["id"], "yes")
            assert (await pending).choices[0].message.content == "yes"

            # With nothing in flight the same edit applies.
            code, out, err = await run("studies", "reload", "--data", str(data))
            assert code == 0, out + err
            assert f"pid {pid}: study 'alpha': reloaded" in out
            assert [m.id for m in (await client.models.list()).data] == ["wizard"]

        # The consent text of a study with a participant: refused, the old text stays.
        (tmp_path / "alpha.toml").write_text(
            ALPHA.replace('[[personas]]\nid = "extra"\n', "").replace(
                "You chat with a prototype.", "Something else."
            )
        )
        code, out, _ = await run("studies", "reload", "--data", str(data))
        assert code == 2
        assert (
            "study 'alpha': refused: the consent text and version changed, but the study has"
            " 1 participant(s)"
        ) in out
        await op.close()


@pytest.mark.timeout(120)
async def test_keys_list_and_revoke(tmp_path: Path, database_url: str | None) -> None:
    """`woz keys revoke` takes a key back from a running server (the API's 401) and
    `woz keys list` shows when; unknown keys and studies are refused in one line."""
    data = tmp_path / "data"
    (tmp_path / "alpha.toml").write_text(ALPHA)
    (tmp_path / "beta.toml").write_text(BETA)
    alpha_app = await key(data, str(tmp_path / "alpha.toml"), "app")
    beta_app = await key(data, str(tmp_path / "beta.toml"), "app")
    async with serving(tmp_path) as server:
        code, out, err = await run("keys", "revoke", alpha_app["id"], "--data", str(data))
        assert code == 0, err
        assert out == (
            f"Revoked app key {alpha_app['id']} ('app') of study 'alpha'; running servers"
            " refuse it within seconds.\n"
        )
        async with sdk(server, alpha_app["token"]) as client:
            with pytest.raises(openai.AuthenticationError):
                await client.models.list()
        async with sdk(server, beta_app["token"]) as client:
            assert [m.id for m in (await client.models.list()).data] == ["wizard", "extra"]

        code, out, _ = await run("--data", str(data), "keys", "list", "--json")
        listed = {k["id"]: k for k in map(json.loads, out.splitlines())}
        assert (
            listed[alpha_app["id"]]["revoked_at"] and listed[alpha_app["id"]]["study_id"] == "alpha"
        )
        assert listed[beta_app["id"]]["revoked_at"] is None
        code, out, _ = await run("keys", "list", "--study", "beta", "--data", str(data))
        assert code == 0 and alpha_app["id"] not in out and beta_app["id"] in out

        code, out, err = await run("keys", "revoke", "key_nope", "--data", str(data))
        assert (code, out) == (2, "")
        assert err == "woz: no key 'key_nope' in this store; `woz keys list` shows them\n"
        code, _, err = await run(
            "keys", "create", "--study", "gamma", "--role", "app", "--data", str(data)
        )
        assert code == 2 and err.startswith("woz: no study 'gamma' (studies served from")
    # Stopped, the server has left no trace for `woz studies reload` to signal.
    code, out, err = await run("studies", "reload", "--data", str(data))
    assert (code, out) == (2, "")
    assert err.startswith(f"woz: no woz server is running from the data folder {data}")
    code, out, _ = await run("studies", "list", "--json", "--data", str(data))
    listed = [json.loads(line) for line in out.splitlines()]
    assert [(s["id"], s["keys"], s["served_by_pids"]) for s in listed] == [
        ("alpha", 0, []),
        ("beta", 1, []),
    ]
