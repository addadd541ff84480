"""Several studies in one deployment: every key, request, console, watch view and page
belongs to one study, and sees nothing of the others."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import anthropic
import openai
import pytest
import redis
from aiohttp.test_utils import TestServer
from websockets.exceptions import InvalidStatus

from tests.conftest import ask
from tests.contracts.test_dispatcher import REDIS_URL, check_redis, forget_prefix, redis_prefix
from woz.app import create_app
from woz.auth.tokens import create_key
from woz.config import Settings
from woz.context import STORE, STUDIES
from woz.served import StudySources
from woz.study import parse_study
from woz.testing import ScriptedOperator


def study_toml(study_id: str, own_persona: str) -> str:
    """A study with the persona `wizard` (in every study) and one of its own."""
    return f"""
[study]
id = "{study_id}"
title = "Study {study_id}"

[[personas]]
id = "wizard"

[[personas]]
id = "{own_persona}"

[pacing]
tokens_per_second = 0
first_token_delay_ms = 0
"""


@dataclass
class Served:
    """One study of the deployment, with a key of each role."""

    study_id: str
    app_key: str
    app_key_id: str
    operator_token: str
    operator_key_id: str
    researcher_token: str


@contextlib.asynccontextmanager
async def two_studies(
    aiohttp_server: Callable[..., Awaitable[TestServer]], settings: Settings
) -> AsyncIterator[tuple[TestServer, Served, Served]]:
    studies = [
        parse_study(study_toml("alpha", "only-alpha")),
        parse_study(study_toml("beta", "only-beta")),
    ]
    server = await aiohttp_server(create_app(studies, settings))
    served = []
    for study in studies:
        store = server.app[STORE]
        app, app_token = await create_key(store, study.id, "app", f"{study.id} app")
        op, operator_token = await create_key(store, study.id, "operator", f"{study.id} operator")
        _, researcher_token = await create_key(store, study.id, "researcher", "Rita")
        served.append(Served(study.id, app_token, app.id, operator_token, op.id, researcher_token))
    try:
        yield server, served[0], served[1]
    finally:
        await server.close()


def client(server: TestServer, key: str) -> openai.AsyncOpenAI:
    base = str(server.make_url("/v1"))
    return openai.AsyncOpenAI(base_url=base, api_key=key, max_retries=0)


async def operator(server: TestServer, token: str) -> ScriptedOperator:
    op = ScriptedOperator(str(server.make_url("")), token)
    await op.connect()
    await op.ready()
    await op.expect("queue", operators_online=1)  # its study's queue: itself only
    return op


async def get_json(server: TestServer, path: str, token: str) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {token}"}
    async with (
        aiohttp.ClientSession() as session,
        session.get(server.make_url(path), headers=headers) as response,
    ):
        return response.status, await response.json()


async def test_two_studies_see_nothing_of_each_other(
    aiohttp_server: Callable[..., Awaitable[TestServer]], settings: Settings
) -> None:
    """The same model id in two studies routes by key to each study's own operator; the
    records, models, watch views and research API of each show only its own."""
    async with two_studies(aiohttp_server, settings) as (server, alpha, beta):
        op_alpha = await operator(server, alpha.operator_token)
        op_beta = await operator(server, beta.operator_token)
        assert op_alpha.hello["study"]["id"] == "alpha"
        assert op_beta.hello["study"]["id"] == "beta"
        assert [p["id"] for p in op_beta.hello["personas"]] == ["wizard", "only-beta"]
        async with client(server, alpha.app_key) as a, client(server, beta.app_key) as b:
            to_alpha = ask(a, "for alpha", model="wizard")
            to_beta = ask(b, "for beta", model="wizard")
            task_alpha = await op_alpha.next_task()
            task_beta = await op_beta.next_task()
            assert "for alpha" in str(task_alpha["messages"])
            assert "for beta" in str(task_beta["messages"])
            await op_beta.reply(task_beta["id"], "from beta")
            await op_alpha.reply(task_alpha["id"], "from alpha")
            assert (await to_alpha).choices[0].message.content == "from alpha"
            assert (await to_beta).choices[0].message.content == "from beta"
            # Each study lists its own models; the other's is unknown to its key.
            assert [m.id for m in (await a.models.list()).data] == ["wizard", "only-alpha"]
            with pytest.raises(openai.NotFoundError):
                await a.chat.completions.create(
                    model="only-beta", messages=[{"role": "user", "content": "hi"}]
                )
        # Neither operator was ever offered the other study's task.
        assert all("for beta" not in str(f) for f in op_alpha.frames)
        assert all("for alpha" not in str(f) for f in op_beta.frames)
        store = server.app[STORE]
        assert [r.answer.content for r in await store.list_records("alpha") if r.answer] == [
            "from alpha"
        ]
        assert [r.answer.content for r in await store.list_records("beta") if r.answer] == [
            "from beta"
        ]
        for own, other in ((alpha, beta), (beta, alpha)):
            status, state = await get_json(server, "/watch/state", own.researcher_token)
            assert status == 200 and state["study"]["id"] == own.study_id
            assert [r["id"] for r in state["recent"]] and all(
                f"from {other.study_id}" not in str(r) for r in state["recent"]
            )
            assert [op["name"] for op in state["operators"]] == [f"{own.study_id} operator"]
            status, study = await get_json(server, "/woz/study", own.app_key)
            assert status == 200 and study["id"] == own.study_id
        await op_alpha.close()
        await op_beta.close()


async def test_pages_and_logins_belong_to_one_study(
    aiohttp_server: Callable[..., Awaitable[TestServer]], settings: Settings
) -> None:
    """Each study has its participant page; a watch login opens its key's study only."""
    async with two_studies(aiohttp_server, settings) as (server, alpha, beta):
        jar = aiohttp.CookieJar(unsafe=True)
        async with aiohttp.ClientSession(cookie_jar=jar) as browser:
            for study_id in ("alpha", "beta"):
                async with browser.get(server.make_url(f"/p/{study_id}")) as response:
                    assert response.status == 200
            async with browser.get(server.make_url("/p/gamma")) as response:
                assert response.status == 404
            login = server.make_url(f"/watch/login?token={beta.researcher_token}")
            async with browser.get(login) as response:
                assert response.status == 200  # redirected to the view
            async with browser.get(server.make_url("/watch/state")) as response:
                assert (await response.json())["study"]["id"] == "beta"
        # An operator's console session opens the operator socket of its own study.
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as console:
            login = server.make_url(f"/console/login?token={alpha.operator_token}")
            async with console.get(login) as response:
                assert response.status == 200
            origin = str(server.make_url("")).rstrip("/")
            async with console.ws_connect(
                server.make_url("/operator/ws"), headers={"Origin": origin}
            ) as ws:
                hello = await ws.receive_json(timeout=10)
                assert hello["type"] == "hello" and hello["study"]["id"] == "alpha"


async def test_a_revoked_key_gets_the_dialects_401(
    aiohttp_server: Callable[..., Awaitable[TestServer]], settings: Settings
) -> None:
    """Once revoked (and the key cache lapsed: here at once), each API dialect says 401;
    the other study's key goes on working."""
    quick = settings.model_copy(update={"key_cache_s": 0.0})
    async with two_studies(aiohttp_server, quick) as (server, alpha, beta):
        async with client(server, alpha.app_key) as a:
            assert (await a.models.list()).data
            revoked = await server.app[STORE].revoke_key(alpha.app_key_id)
            assert revoked is not None and revoked.revoked_at is not None
            with pytest.raises(openai.AuthenticationError):
                await a.models.list()
        claude = anthropic.AsyncAnthropic(
            base_url=str(server.make_url("")), api_key=alpha.app_key, max_retries=0
        )
        async with claude:
            with pytest.raises(anthropic.AuthenticationError) as refused:
                await claude.messages.create(
                    model="wizard", max_tokens=10, messages=[{"role": "user", "content": "hi"}]
                )
        body = refused.value.body
        assert refused.value.status_code == 401 and isinstance(body, dict)
        assert body["type"] == "error" and body["error"]["type"] == "authentication_error"
        async with client(server, beta.app_key) as b:
            assert [m.id for m in (await b.models.list()).data] == ["wizard", "only-beta"]


async def test_a_folder_of_studies_reloads_study_by_study(
    aiohttp_server: Callable[..., Awaitable[TestServer]], settings: Settings, tmp_path: Path
) -> None:
    """`--studies DIR`: a new file is a new study, an idle study takes new routing (with a
    new dispatcher), a file that no longer loads leaves its study as it was, and a file
    removed retires its study: its key and page then find nothing."""
    folder = tmp_path / "studies"
    folder.mkdir()
    (folder / "alpha.toml").write_text(study_toml("alpha", "only-alpha"))
    server = await aiohttp_server(create_app(StudySources(folder=folder), settings))
    try:
        studies = server.app[STUDIES]
        (folder / "beta.toml").write_text(study_toml("beta", "only-beta"))
        report = await studies.reload()
        assert [(r.study_id, r.outcome) for r in report] == [
            ("alpha", "unchanged"),
            ("beta", "added"),
        ]
        _, beta_key = await create_key(server.app[STORE], "beta", "app", "beta app")
        async with client(server, beta_key) as b:
            assert [m.id for m in (await b.models.list()).data] == ["wizard", "only-beta"]

            alpha = studies.get("alpha")
            assert alpha is not None
            first = alpha.dispatcher
            (folder / "alpha.toml").write_text(
                study_toml("alpha", "only-alpha") + "\n[routing]\nanswer_timeout_s = 42\n"
            )
            [applied] = [r for r in await studies.reload() if r.study_id == "alpha"]
            assert applied.outcome == "reloaded"
            assert alpha.study.routing.answer_timeout_s == 42 and alpha.dispatcher is not first

            (folder / "alpha.toml").write_text("[study]\nid = 'alpha'\n")
            [kept] = [r for r in await studies.reload() if r.study_id == "alpha"]
            assert kept.outcome == "refused"
            assert "missing required field 'study.title'" in kept.reasons[0]
            assert kept.reasons[0].endswith("(the study stays as it was)")
            assert studies.get("alpha") is alpha and alpha.study.routing.answer_timeout_s == 42

            (folder / "beta.toml").unlink()
            [gone] = [r for r in await studies.reload() if r.study_id == "beta"]
            assert gone.outcome == "retired" and studies.ids() == ["alpha"]
            with pytest.raises(openai.AuthenticationError) as refused:
                await b.models.list()
            assert "'beta', which this server does not serve" in str(refused.value)
        async with (
            aiohttp.ClientSession() as browser,
            browser.get(server.make_url("/p/beta")) as response,
        ):
            assert response.status == 404
    finally:
        await server.close()


async def test_a_revoked_operator_key_closes_its_socket(
    aiohttp_server: Callable[..., Awaitable[TestServer]], settings: Settings
) -> None:
    """An operator socket open when its key is revoked is told and closed at its next
    check; the key opens no new socket; the other study's operator stays."""
    quick = settings.model_copy(update={"key_cache_s": 0.0, "operator_key_check_s": 0.1})
    async with two_studies(aiohttp_server, quick) as (server, alpha, beta):
        op_alpha = await operator(server, alpha.operator_token)
        op_beta = await operator(server, beta.operator_token)
        await server.app[STORE].revoke_key(alpha.operator_key_id)
        refused = await op_alpha.expect("error", code="key_revoked")
        assert "revoked" in refused["message"]
        await op_alpha.wait_closed()  # by the server
        assert op_alpha.closed
        with pytest.raises(InvalidStatus) as again:
            await ScriptedOperator(str(server.make_url("")), alpha.operator_token).connect()
        assert again.value.response.status_code == 401
        assert not op_beta.closed
        await op_beta.send({"type": "ping"})
        await op_beta.expect("pong")
        await op_beta.close()


async def test_studies_share_redis_each_under_its_own_prefix(
    aiohttp_server: Callable[..., Awaitable[TestServer]], settings: Settings
) -> None:
    """Over a shared Redis, each study's dispatcher state lives under its own key prefix:
    the same model id in two studies still reaches each study's own operator."""
    check_redis()
    prefix = redis_prefix()
    shared = settings.model_copy(update={"redis_url": REDIS_URL, "redis_prefix": prefix})
    try:
        async with two_studies(aiohttp_server, shared) as (server, alpha, beta):
            op_alpha = await operator(server, alpha.operator_token)
            op_beta = await operator(server, beta.operator_token)
            async with client(server, alpha.app_key) as a, client(server, beta.app_key) as b:
                to_alpha = ask(a, "for alpha", model="wizard")
                to_beta = ask(b, "for beta", model="wizard")
                task_alpha = await op_alpha.next_task()
                task_beta = await op_beta.next_task()
                keys = [k.decode() for k in redis.Redis.from_url(REDIS_URL).keys(prefix + "*")]
                assert {k.removeprefix(prefix).split(":")[0] for k in keys} == {"alpha", "beta"}
                await op_alpha.reply(task_alpha["id"], "from alpha")
                await op_beta.reply(task_beta["id"], "from beta")
                assert (await to_alpha).choices[0].message.content == "from alpha"
                assert (await to_beta).choices[0].message.content == "from beta"
            assert all("for beta" not in str(f) for f in op_alpha.frames)
            assert all("for alpha" not in str(f) for f in op_beta.frames)
            await op_alpha.close()
            await op_beta.close()
    finally:
        forget_prefix(prefix)
