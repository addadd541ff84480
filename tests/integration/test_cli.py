"""The `woz` command as a user runs it: real processes, real ports."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import sys
from pathlib import Path

import aiohttp
import openai

from tests.conftest import Woz
from tests.databases import fresh_schema
from woz.config import Settings
from woz.context import KEYS
from woz.store.factory import store_for
from woz.testing import ScriptedOperator

WOZ = [sys.executable, "-m", "woz"]


async def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        *WOZ,
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, **(env or {})},
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(), 30)
    finally:
        if process.returncode is None:  # a command that should have ended, still running
            process.kill()
            await process.wait()
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


def study_file(folder: Path, study_id: str = "s1") -> Path:
    """A minimal valid study file in `folder`."""
    path = folder / f"{study_id}.toml"
    path.write_text(f'[study]\nid = "{study_id}"\ntitle = "T"\n[[personas]]\nid = "p"\n')
    return path


async def test_keys_create_json_stores_only_a_hash(tmp_path: Path) -> None:
    """--json prints id, role and token once; the store holds the key without its token."""
    code, out, _ = await run(
        "--data",
        str(tmp_path),
        "keys",
        "create",
        "--study",
        str(study_file(tmp_path)),
        "--role",
        "operator",
        "--name",
        "Ada",
        "--json",
    )
    assert code == 0
    created = json.loads(out)
    assert created["role"] == "operator" and created["id"].startswith("key_")
    assert created["study"] == "s1"
    assert created["login_url"] == f"http://127.0.0.1:8000/console/login?token={created['token']}"
    database = (tmp_path / "woz.db").read_bytes()
    assert created["token"].encode() not in database
    store = store_for(Settings(data=tmp_path))
    await store.open()
    try:
        [key] = await store.list_keys("s1")
    finally:
        await store.close()
    assert key.id == created["id"] and key.name == "Ada"


async def test_keys_create_prints_a_login_link_that_opens(tmp_path: Path) -> None:
    """Without --json: the token once, and a login link with a real address: --base-url,
    else WOZ_PUBLIC_URL, else woz's default address with a note saying so."""
    study = str(study_file(tmp_path))
    printed = {}
    for role in ("app", "operator", "researcher"):
        code, out, _ = await run(
            "keys", "create", "--study", study, "--role", role, "--data", str(tmp_path)
        )
        assert code == 0
        printed[role] = out.splitlines()
    token = printed["researcher"][2]
    assert token.startswith("woz-researcher-")
    assert printed["researcher"][3] == (
        f"Watch view: open http://127.0.0.1:8000/watch/login?token={token}"
    )
    assert printed["researcher"][4].startswith(
        "(http://127.0.0.1:8000 is where `woz serve` listens unless told otherwise;"
    )
    assert printed["operator"][3].startswith(
        "Operator console: open http://127.0.0.1:8000/console/login?token=woz-operator-"
    )
    assert len(printed["app"]) == 3  # an app key logs no browser in

    create = ["--data", str(tmp_path), "keys", "create", "--study", study, "--role", "operator"]
    code, out, _ = await run(*create, "--base-url", "https://woz.example.org/v1")
    assert code == 0
    [*_, token, link] = out.splitlines()
    assert link == f"Operator console: open https://woz.example.org/console/login?token={token}"
    code, out, _ = await run(*create, env={"WOZ_PUBLIC_URL": "https://lab.example.org/"})
    assert code == 0
    [*_, token, link] = out.splitlines()
    assert link == f"Operator console: open https://lab.example.org/console/login?token={token}"
    code, out, err = await run(*create, "--base-url", "woz.example.org")
    assert code == 2 and out == ""
    assert err == "woz: --base-url must start with http:// or https:// (got 'woz.example.org')\n"


async def test_keys_create_refuses_a_study_that_does_not_exist(
    woz: Woz, settings: Settings
) -> None:
    """A key for an unknown study id is refused with the studies that do exist here."""
    create = ["keys", "create", "--role", "app", "--data", str(settings.data)]
    where = "this database" if settings.database_url else f"the data folder {settings.data}"
    code, out, err = await run(*create, "--study", "test-studdy")
    assert code == 2 and out == ""
    assert err == (
        f"woz: no study 'test-studdy' (studies served from {where}: "
        "test-study); give its study file (--study FILE), or check --data (or --database-url)\n"
    )
    code, out, err = await run(*create, "--study", "test-study", "--json")
    assert code == 0, err
    created = json.loads(out)
    assert await woz.server.app[KEYS].verify(created["token"], "app") is not None


async def test_check_says_what_a_study_sets_up_and_warns(tmp_path: Path) -> None:
    """`woz check` validates without serving: a summary, warnings, or the field at fault."""
    code, out, _ = await run("check", "examples/suggest_concierge/study.toml")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "examples/suggest_concierge/study.toml is a valid study."
    assert "  study      suggest-concierge: SuggEst: would shoppers trust an AI concierge?" in lines
    assert "  labor      18 USD per hour, floor 12" in lines
    assert "  page       participants see 'SuggEst', talking to suggest-1" in lines
    assert "  voice      piper, voice en_US-joe-medium, speed 1" in lines
    assert not [line for line in lines if line.startswith("warning:")]

    bare = tmp_path / "bare.toml"
    bare.write_text('[study]\nid = "s"\ntitle = "T"\n[[personas]]\nid = "p"\n')
    code, out, _ = await run("check", str(bare))
    assert code == 0
    warned = [line for line in out.splitlines() if line.startswith("warning:")]
    assert any("no pay_rate" in line for line in warned)
    assert any("[study.consent] has no text" in line for line in warned)

    typo = tmp_path / "typo.toml"
    typo.write_text('[study]\nid = "s"\ntitle = "T"\ndeceptoin = "none"\n[[personas]]\nid = "p"\n')
    code, out, err = await run("check", str(typo))
    assert code == 2 and out == ""
    expected = f"woz: {typo}:4: unknown field 'study.deceptoin' (check its spelling"
    assert err.startswith(expected) and len(err.strip().splitlines()) == 1


async def test_bad_role_is_a_one_line_usage_error(tmp_path: Path) -> None:
    code, _, err = await run(
        "--data", str(tmp_path), "keys", "create", "--study", "s", "--role", "god"
    )
    assert code == 2 and "argument --role: invalid choice: 'god'" in err


async def test_serve_refuses_a_study_with_a_typo(tmp_path: Path) -> None:
    """A misspelt field stops `woz serve` with the file, line and field, and no traceback."""
    study = tmp_path / "study.toml"
    study.write_text('[study]\nid = "s"\ntitle = "T"\ndeceptoin = "none"\n[[personas]]\nid = "p"\n')
    code, _, err = await run("--data", str(tmp_path), "serve", "--study", str(study))
    assert code == 2
    assert err.strip() == (
        f"woz: {study}:4: unknown field 'study.deceptoin' "
        "(check its spelling; see the study file docs)"
    )
    assert "Traceback" not in err


async def test_demo_serves_the_example_study_end_to_end(tmp_path: Path) -> None:
    """`woz demo` prints what a newcomer needs; the printed key and links work."""
    process = await asyncio.create_subprocess_exec(
        *WOZ,
        "demo",
        "--port",
        "0",  # any free port
        "--data",
        str(tmp_path),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    assert process.stdout is not None
    printed = ""
    try:
        async with asyncio.timeout(30):
            while "Researcher view" not in printed:
                printed += (await process.stdout.readline()).decode()
        base_url = re.search(r"API base URL\s+(\S+)", printed)
        app_key = re.search(r"App key\s+(\S+)", printed)
        console = re.search(r"Operator console\s+(\S+)", printed)
        page = re.search(r"Participant page\s+(\S+)", printed)
        watch = re.search(r"Researcher view\s+(\S+)", printed)
        assert base_url and app_key and console and page and watch
        port = int(base_url[1].removeprefix("http://127.0.0.1:").removesuffix("/v1"))
        assert base_url[1] == f"http://127.0.0.1:{port}/v1"
        assert page[1] == f"http://127.0.0.1:{port}/p/suggest-concierge"
        jar = aiohttp.CookieJar(unsafe=True)
        async with aiohttp.ClientSession(cookie_jar=jar) as http:
            async with http.get(page[1]) as response:
                assert response.status == 200 and "page.js" in await response.text()
            async with http.get(page[1] + "/state") as response:
                assert (await response.json())["persona"]["id"] == "suggest-1"
        token = console[1].split("token=")[1]
        async with ScriptedOperator(f"http://127.0.0.1:{port}", token) as op:
            assert op.hello["study"]["id"] == "suggest-concierge"
            await op.ready()
            async with openai.AsyncOpenAI(
                base_url=base_url[1], api_key=app_key[1], _strict_response_validation=True
            ) as client:
                call = asyncio.create_task(
                    client.chat.completions.create(
                        model="suggest-1", messages=[{"role": "user", "content": "A gift?"}]
                    )
                )
                task = await op.next_task()
                await op.reply(task["id"], "A silk scarf.")
                assert (await call).choices[0].message.content == "A silk scarf."
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
            async with http.get(watch[1]) as response:  # logs in, lands on the page
                assert response.url.path == "/watch/" and "watch.js" in await response.text()
            async with http.get(f"http://127.0.0.1:{port}/watch/state") as response:
                [seen] = (await response.json())["recent"]
                assert seen["answer"] == "A silk scarf." and seen["last_message"] == "A gift?"
    finally:
        process.send_signal(signal.SIGINT)
        assert await asyncio.wait_for(process.wait(), 15) == 0
    store = store_for(Settings(data=tmp_path))
    await store.open()
    try:
        [record] = await store.list_records("suggest-concierge")
    finally:
        await store.close()
    assert record.answer is not None and record.answer.content == "A silk scarf."
    assert record.deception == "partial" and record.status == "delivered"


async def test_serve_prints_where_each_page_is(tmp_path: Path) -> None:
    process = await asyncio.create_subprocess_exec(
        *WOZ,
        "serve",
        "--study",
        "examples/tool_agent/study.toml",
        "--data",
        str(tmp_path),
        "--port",
        "0",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    assert process.stdout is not None
    printed = ""
    try:
        async with asyncio.timeout(30):
            while "Watch view" not in printed:
                printed += (await process.stdout.readline()).decode()
        watch = re.search(r"Watch view\s+(\S+)", printed)
        page = re.search(r"Participant page\s+(\S+)", printed)
        assert watch and page and page[1].endswith("/p/tool-agent")
        async with aiohttp.ClientSession() as http, http.get(watch[1]) as response:
            assert response.status == 200 and "watch.js" in await response.text()
    finally:
        process.send_signal(signal.SIGINT)
        assert await asyncio.wait_for(process.wait(), 15) == 0


async def test_serve_refuses_two_files_of_one_study(tmp_path: Path) -> None:
    """Two study files with the same id are refused in one line naming both."""
    first = study_file(tmp_path, "a")
    second = tmp_path / "copy.toml"
    second.write_text(first.read_text())
    serve = ["serve", "--study", str(first), "--study", str(second), "--port", "0"]
    code, out, err = await run(*serve, "--data", str(tmp_path))
    assert code == 2 and out == ""
    assert err == (
        f"woz: {second}: study id 'a' is already served from {first}; every study needs"
        " its own id\n"
    )


async def test_global_options_come_before_or_after_any_subcommand(
    woz: Woz, settings: Settings
) -> None:
    """--data and --log-level work after nested subcommands, as before them."""
    after = ["--data", str(settings.data), "--log-level", "warning"]
    study = ["--study", "test-study"]
    out = ["--out", str(settings.data / "out")]
    commands = [
        ["audit", "verify", *after],
        ["records", "list", *study, *after],
        ["operators", "list", *after, *study],
        ["report", "arms", *study, *after],
        ["participants", "show", *study, "ada", *after],
        ["export", *study, "--format", "csv", "--purpose", "in_study_analysis", *out, *after],
        ["keys", "--data", str(settings.data), "create", *study, "--role", "app"],
        ["check", "examples/tool_agent/study.toml", "--log-level", "warning"],
    ]
    results = await asyncio.gather(*(run(*command) for command in commands))
    for command, (code, out, err) in zip(commands, results, strict=True):
        assert code == 0 and out, (command, err)
    assert results[0][1].startswith("test-study: ok")


async def test_database_url_works_before_or_after_the_subcommand(tmp_path: Path) -> None:
    """`--database-url` is a global option, like `--data`: keys land in PostgreSQL."""
    study = str(study_file(tmp_path))
    with fresh_schema() as url:
        create = ["keys", "create", "--study", study, "--role", "app", "--json"]
        code, _, err = await run("--database-url", url, *create, "--data", str(tmp_path))
        assert code == 0, err
        code, _, err = await run("--data", str(tmp_path), *create, "--database-url", url)
        assert code == 0, err
        store = store_for(Settings(data=tmp_path, database_url=url))
        await store.open()
        try:
            assert len(await store.list_keys("s1")) == 2
        finally:
            await store.close()
    assert not (tmp_path / "woz.db").exists()


async def test_a_database_url_that_is_not_postgresql_is_one_line(tmp_path: Path) -> None:
    code, out, err = await run(
        "keys", "create", "--study", "s1", "--role", "app", "--data", str(tmp_path),
        "--database-url", "mysql://root:secret@db/woz",
    )  # fmt: skip
    assert code == 2 and out == ""
    assert err == (
        "woz: --database-url (or WOZ_DATABASE_URL): must be a PostgreSQL URL such as"
        " postgresql://woz@db.example/woz (leave it out for SQLite in the data folder)\n"
    )
