"""Shared fixtures: a live woz on a real socket, keys, and scripted operators."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openai
import pytest
from aiohttp.test_utils import TestServer
from hypothesis import settings
from openai.types.chat import ChatCompletion

from tests.databases import drop_run_database, fresh_schema, suite_backend
from tests.fake_upstream import upstream  # noqa: F401  (a fixture, shared by every test)
from woz.app import create_app
from woz.auth.tokens import create_key
from woz.config import Settings
from woz.context import STORE, STUDIES
from woz.dispatch.kv import KeyValue
from woz.models.study import Study
from woz.runtime import StudyRuntime
from woz.store.base import Store
from woz.study import parse_study
from woz.testing import ScriptedOperator

# Property tests run the same examples every time (a red CI run can be reproduced, and
# a busy machine cannot fail one on time): `HYPOTHESIS_PROFILE=explore` searches afresh.
settings.register_profile("repeatable", derandomize=True, deadline=None, database=None)
settings.register_profile("explore", deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))

STUDY_TOML = """
[study]
id = "test-study"
title = "A test study"

[[personas]]
id = "wizard"
display_name = "Wizard"

[[personas]]
id = "org/wizard-live"
live = true

[routing]
answer_timeout_s = 30
reconnect_grace_s = 1
queue_limit = 50

[pacing]
tokens_per_second = 0
first_token_delay_ms = 0

[[snippets]]
key = "1"
label = "Hi"
text = "Hello there!"
"""


@dataclass
class Woz:
    """A running woz: its URLs, an app key, and a way to make operators."""

    server: TestServer
    study: Study
    app_key: str
    operator_token: str
    make_operator: Callable[..., Awaitable[ScriptedOperator]]

    @property
    def url(self) -> str:
        return str(self.server.make_url("")).rstrip("/")

    @property
    def base_url(self) -> str:
        return self.url + "/v1"

    @property
    def store(self) -> Store:
        return self.server.app[STORE]

    @property
    def runtime(self) -> StudyRuntime:
        """The served study's runtime: its dispatcher, participants, recorder..."""
        runtime = self.server.app[STUDIES].get(self.study.id)
        assert runtime is not None
        return runtime

    def openai(self, **kwargs: Any) -> openai.AsyncOpenAI:
        """The official SDK pointed at this woz (use it with `async with`), validating every
        response strictly against the SDK's own models."""
        kwargs.setdefault("api_key", self.app_key)
        kwargs.setdefault("_strict_response_validation", True)
        return openai.AsyncOpenAI(base_url=self.base_url, **kwargs)

    async def ready_operator(self, capacity: int = 1, token: str | None = None) -> ScriptedOperator:
        """A connected operator who has said `ready`."""
        op = await self.make_operator(token)
        await op.ready(capacity)
        return op

    async def online_operator(self, capacity: int = 1) -> ScriptedOperator:
        """The first operator, ready and already counted by the dispatcher (its queue
        broadcast says so), so a request sent next cannot find nobody online."""
        op = await self.ready_operator(capacity)
        await op.expect("queue", operators_online=1)
        return op


def ask(
    client: openai.AsyncOpenAI, content: str = "Hello?", model: str = "wizard", **kwargs: Any
) -> asyncio.Task[ChatCompletion]:
    """Start a chat completion with one user message, in the background."""
    return asyncio.create_task(
        client.chat.completions.create(
            model=model, messages=[{"role": "user", "content": content}], **kwargs
        )
    )


async def live_then_reply(
    stream: AsyncIterator[Any], typed: str, reply: Callable[[], Awaitable[object]]
) -> str:
    """Read a streamed chat completion until `typed` has arrived (live text, before any
    reply), then run `reply` and read the rest: the whole text the client received."""
    pieces = aiter(stream)
    seen = ""
    async with asyncio.timeout(10):
        while typed not in seen:
            chunk = await anext(pieces)
            if chunk.choices and chunk.choices[0].delta.content:
                seen += chunk.choices[0].delta.content
    await reply()
    async for chunk in pieces:
        if chunk.choices and chunk.choices[0].delta.content:
            seen += chunk.choices[0].delta.content
    return seen


@pytest.fixture
def study_toml(request: pytest.FixtureRequest) -> str:
    """The test study. Parametrize indirectly with a TOML string to replace it, or
    with `{"routing.queue_limit": "1"}` to set values (TOML literals) in its tables."""
    param = getattr(request, "param", None)
    if isinstance(param, str):
        return param
    return with_values(STUDY_TOML, param or {})


def with_values(toml: str, values: dict[str, str]) -> str:
    """`toml` with `table.key = value` set, replacing the key if the table has it."""
    for dotted, value in values.items():
        table, key = dotted.rsplit(".", 1)
        header = f"[{table}]\n"
        start = toml.index(header) + len(header)
        end = toml.find("\n[", start)
        end = len(toml) if end == -1 else end
        body = re.sub(rf"(?m)^{re.escape(key)} = .*\n", "", toml[start:end])
        toml = toml[:start] + f"{key} = {value}\n" + body + toml[end:]
    return toml


def pytest_sessionfinish(session: pytest.Session) -> None:
    drop_run_database()


@pytest.fixture
def database_url(monkeypatch: pytest.MonkeyPatch) -> Iterator[str | None]:
    """The store the suite runs on (`WOZ_TEST_STORE`): None for SQLite in the data
    folder, or the URL of a fresh PostgreSQL schema, dropped after the test. With
    PostgreSQL it is also `WOZ_DATABASE_URL` for the test, so that the `woz` commands
    a test runs work on the same store as its server."""
    if suite_backend() == "sqlite":
        yield None
        return
    with fresh_schema() as url:
        monkeypatch.setenv("WOZ_DATABASE_URL", url)
        yield url


@pytest.fixture
def settings(tmp_path: Path, database_url: str | None) -> Settings:
    return Settings(
        data=tmp_path / "data",
        database_url=database_url,
        keepalive_s=0.5,
        disconnect_poll_s=0.05,
    )


@contextlib.asynccontextmanager
async def start_woz(
    aiohttp_server: Callable[..., Awaitable[TestServer]],
    study_toml: str,
    settings: Settings | None = None,
) -> AsyncIterator[Woz]:
    """A live woz for `study_toml`, with an app key and an operator token."""
    study = parse_study(study_toml)
    own_data = settings is None
    with contextlib.ExitStack() as stack:
        if settings is None:
            url = stack.enter_context(fresh_schema()) if suite_backend() == "postgres" else None
            settings = Settings(
                data=Path(tempfile.mkdtemp(prefix="woz-test-")),
                database_url=url,
                keepalive_s=0.5,
                disconnect_poll_s=0.05,
            )
        async with _serve(aiohttp_server, study, settings, own_data) as running:
            yield running


@contextlib.asynccontextmanager
async def _serve(
    aiohttp_server: Callable[..., Awaitable[TestServer]],
    study: Study,
    settings: Settings,
    own_data: bool,
    kv: KeyValue | None = None,
) -> AsyncIterator[Woz]:
    server = await aiohttp_server(create_app(study, settings, kv=kv))
    store = server.app[STORE]
    _, app_key = await create_key(store, study.id, "app", "test app")
    _, operator_token = await create_key(store, study.id, "operator", "Olive")
    operators: list[ScriptedOperator] = []

    async def make_operator(token: str | None = None) -> ScriptedOperator:
        op = ScriptedOperator(str(server.make_url("")), token or operator_token)
        await op.connect()
        operators.append(op)
        return op

    try:
        yield Woz(server, study, app_key, operator_token, make_operator)
    finally:
        for op in operators:
            await op.close()
        await server.close()
        if own_data:
            shutil.rmtree(settings.data, ignore_errors=True)


@pytest.fixture
async def woz(
    aiohttp_server: Callable[..., Awaitable[TestServer]], settings: Settings, study_toml: str
) -> AsyncIterator[Woz]:
    async with start_woz(aiohttp_server, study_toml, settings) as running:
        yield running


@pytest.fixture
async def openai_client(woz: Woz) -> AsyncIterator[openai.AsyncOpenAI]:
    """The official SDK pointed at woz, without retries unless a test asks for them."""
    async with woz.openai(max_retries=0) as client:
        yield client
