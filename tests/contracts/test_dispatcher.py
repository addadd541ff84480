"""The dispatcher contract, run against every backend (memory and Redis): the same tests.

Each test runs two woz servers ("fronts" A and B) on one PostgreSQL schema and one
dispatcher state: for memory, one `MemoryKeyValue` both servers share in this
process; for Redis, a `RedisKeyValue` each on the same key prefix, random per test
and deleted after it. Clients talk to one server, operators to the other, through
the official `openai` SDK and the operator protocol over real sockets.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import openai
import pytest
import redis
from aiohttp.test_utils import TestServer

from tests.conftest import STUDY_TOML, Woz, _serve, ask, live_then_reply, with_values
from tests.databases import fresh_schema
from tests.integration.realtime_client import Events, silence, stream, tone
from woz.config import Settings
from woz.dispatch.kv import KeyValue
from woz.dispatch.memory_kv import MemoryKeyValue
from woz.dispatch.redis_kv import RedisKeyValue
from woz.study import parse_study

REDIS_URL = os.environ.get("WOZ_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
REDIS_HINT = (
    "start it with: redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save ''"
    " --appendonly no (see SERVICES.md), or point WOZ_TEST_REDIS_URL at another server"
)
RETRY = {"x-stainless-retry-count": "1"}


def redis_prefix() -> str:
    """A key prefix of this test's own; `forget_prefix` deletes its keys after."""
    return f"woz-test:{secrets.token_hex(6)}:"


def forget_prefix(prefix: str) -> None:
    """Delete the keys under `prefix` (only those: other runs may share the server)."""
    client = redis.Redis.from_url(REDIS_URL)
    try:
        keys = list(client.scan_iter(match=prefix + "*", count=1000))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


def check_redis() -> None:
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3)
    try:
        client.ping()
    except redis.exceptions.ConnectionError as exc:
        pytest.fail(f"Redis at {REDIS_URL} is not answering ({exc}); {REDIS_HINT}")
    finally:
        client.close()


@pytest.fixture(params=["memory", "redis"])
def state(request: pytest.FixtureRequest) -> Iterator[Callable[[], KeyValue]]:
    """Makes the dispatcher state of one more front: all of a test's share it."""
    if request.param == "memory":
        shared = MemoryKeyValue()
        yield lambda: shared
        return
    check_redis()
    prefix = redis_prefix()
    made: list[RedisKeyValue] = []

    def make() -> KeyValue:
        kv = RedisKeyValue(REDIS_URL, prefix)
        made.append(kv)
        return kv

    try:
        yield make
    finally:
        forget_prefix(prefix)


@dataclass
class Pair:
    a: Woz  # operators connect here
    b: Woz  # clients call here


@pytest.fixture
def pair_toml(request: pytest.FixtureRequest) -> str:
    return with_values(STUDY_TOML, getattr(request, "param", None) or {})


@pytest.fixture
async def pair(
    aiohttp_server: Callable[..., Awaitable[TestServer]],
    state: Callable[[], KeyValue],
    pair_toml: str,
) -> AsyncIterator[Pair]:
    study = parse_study(pair_toml)
    with fresh_schema() as url, contextlib.ExitStack() as stack:
        kvs = [state(), state()]
        fronts: list[Woz] = []
        async with contextlib.AsyncExitStack() as servers:
            for kv in kvs:
                data = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="woz-")))
                settings = Settings(
                    data=data, database_url=url, keepalive_s=0.5, disconnect_poll_s=0.05
                )
                fronts.append(
                    await servers.enter_async_context(
                        _serve(aiohttp_server, study, settings, own_data=False, kv=kv)
                    )
                )
            try:
                yield Pair(fronts[0], fronts[1])
            finally:
                for kv in kvs:
                    if isinstance(kv, RedisKeyValue):
                        await kv.close()


async def online(woz: Woz) -> Any:
    """A ready operator on `woz` that the dispatcher already counts."""
    op = await woz.make_operator()
    await op.ready()
    await op.expect("queue", operators_online=1)
    return op


def client_of(woz: Woz, **kwargs: Any) -> openai.AsyncOpenAI:
    kwargs.setdefault("max_retries", 0)
    return woz.openai(**kwargs)


async def test_a_client_on_one_front_is_answered_by_an_operator_on_another(pair: Pair) -> None:
    """The task crosses fronts; the answer comes back once, and its record is delivered."""
    op = await online(pair.a)
    async with client_of(pair.b) as client:
        waiting = ask(client, "Where is my order?")
        task = await op.next_task()
        assert task["messages"][-1]["content"][0]["text"] == "Where is my order?"
        ack = await op.reply(task["id"], "On its way.")
        assert ack["type"] == "reply.ack"
        assert (await waiting).choices[0].message.content == "On its way."
    for _ in range(100):
        [record] = await pair.a.store.list_records(pair.a.study.id)
        if record.status == "delivered":
            break
        await asyncio.sleep(0.05)
    assert (record.id, record.status) == (ack["record_id"], "delivered")


async def test_live_typing_reaches_a_client_on_another_front(pair: Pair) -> None:
    """An operator typing on A streams words to a client waiting on B before the reply."""
    op = await online(pair.a)
    async with client_of(pair.b) as client:
        stream = await client.chat.completions.create(
            model="org/wizard-live", messages=[{"role": "user", "content": "Hi"}], stream=True
        )
        task = await op.next_task()
        await op.typing(task["id"], "Hello there ")
        seen = await live_then_reply(
            stream, "Hello there", lambda: op.reply(task["id"], "Hello there friend.")
        )
    assert seen == "Hello there friend."


async def test_a_retry_on_the_other_front_joins_and_is_answered_once(pair: Pair) -> None:
    """The SDK's retry lands on A while the first attempt waits on B: one task, one
    answer for both."""
    op = await online(pair.a)
    async with (
        client_of(pair.b) as first_client,
        client_of(pair.a, api_key=pair.b.app_key) as retry_client,
    ):
        first = ask(first_client, "Once only")
        task = await op.next_task()
        retry = ask(retry_client, "Once only", extra_headers=RETRY)
        for _ in range(100):  # the retry has joined when the watch view counts two waiters
            live = await pair.a.runtime.dispatcher.live(10)
            if live.tasks and live.tasks[0].waiters == 2:
                break
            await asyncio.sleep(0.02)
        await op.reply(task["id"], "Said once.")
        assert (await first).choices[0].message.content == "Said once."
        assert (await retry).choices[0].message.content == "Said once."
    assigned = [f for f in op.frames if f["type"] == "task.assigned"]
    assert len(assigned) == 1
    assert len(await pair.a.store.list_records(pair.a.study.id)) == 1


async def test_a_client_leaving_one_front_revokes_the_task_on_the_other_within_a_second(
    pair: Pair,
) -> None:
    op = await online(pair.a)
    async with client_of(pair.b) as client:
        waiting = ask(client, "Never mind")
        task = await op.next_task()
        waiting.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await waiting
        revoked = await op.expect("task.revoked", timeout=1.0)
    assert (revoked["task_id"], revoked["reason"]) == (task["id"], "client_gone")


async def test_an_operator_reconnecting_through_the_other_front_gets_the_held_task(
    pair: Pair,
) -> None:
    """Within the reconnect grace, the operator's held task follows them to B."""
    op = await online(pair.a)
    async with client_of(pair.b) as client:
        waiting = ask(client, "Still there?")
        task = await op.next_task()
        await op.drop()
        again = await pair.b.make_operator(pair.a.operator_token)
        held = await again.next_task()
        assert held["id"] == task["id"]
        await again.reply(held["id"], "Back again.")
        assert (await waiting).choices[0].message.content == "Back again."


async def test_an_operator_connecting_again_through_the_other_front_ends_the_stale_socket(
    pair: Pair,
) -> None:
    """A second socket of the same operator, through B, takes over: the socket on A is
    told `replaced` and closed, and the task it held is answered through B."""
    op = await online(pair.a)
    async with client_of(pair.b) as client:
        waiting = ask(client, "Anyone?")
        task = await op.next_task()
        again = await pair.b.make_operator(pair.a.operator_token)
        await op.expect("error", code="replaced")
        await op.wait_closed(timeout=5)
        held = await again.next_task()
        assert held["id"] == task["id"]
        await again.reply(held["id"], "Here, on the other side.")
        assert (await waiting).choices[0].message.content == "Here, on the other side."


async def test_no_operator_anywhere_is_a_503_on_either_front(pair: Pair) -> None:
    for woz in (pair.a, pair.b):
        async with client_of(woz) as client:
            with pytest.raises(openai.APIStatusError) as caught:
                await ask(client, "Anyone?")
            assert caught.value.status_code == 503


async def test_an_operator_on_one_front_counts_for_requests_on_the_other(pair: Pair) -> None:
    """The queue figures both fronts send agree: one operator online, one task waiting."""
    op = await online(pair.a)
    watcher = await pair.b.make_operator()
    async with client_of(pair.b) as client:
        await op.pause()
        await watcher.expect("queue", operators_online=0, timeout=5)
        await op.ready()
        waiting = ask(client, "Counted?")
        task = await op.next_task()
        await op.reply(task["id"], "Yes.")
        assert (await waiting).choices[0].message.content == "Yes."


@pytest.mark.parametrize(
    "pair_toml",
    [{"routing.answer_timeout_s": "0.5", "routing.on_timeout": '"fallback"'}],
    indirect=True,
)
async def test_a_deadline_ends_the_task_whichever_front_finds_it(pair: Pair) -> None:
    """Nobody answers: the study's fallback reaches the client, and the operator is told."""
    op = await online(pair.a)
    async with client_of(pair.b) as client:
        waiting = ask(client, "Too slow")
        task = await op.next_task()
        revoked = await op.expect("task.revoked", timeout=5)
        assert (revoked["task_id"], revoked["reason"]) == (task["id"], "expired")
        completion = await waiting
    assert completion.choices[0].message.content == parse_study(STUDY_TOML).routing.fallback_text


@pytest.mark.parametrize(
    "pair_toml", [{"routing.max_in_flight_per_participant": "1"}], indirect=True
)
async def test_the_in_flight_limit_of_a_participant_holds_across_fronts(pair: Pair) -> None:
    op = await online(pair.a)
    headers = {"X-Woz-Participant": "ada"}
    async with aiohttp.ClientSession() as session:
        body = {"model": "wizard", "messages": [{"role": "user", "content": "One"}]}
        auth = {"Authorization": f"Bearer {pair.b.app_key}", **headers}
        first = asyncio.create_task(
            session.post(f"{pair.b.base_url}/chat/completions", json=body, headers=auth)
        )
        task = await op.next_task()
        auth_a = {"Authorization": f"Bearer {pair.b.app_key}", **headers}
        body["messages"] = [{"role": "user", "content": "Two"}]
        async with session.post(
            f"{pair.a.base_url}/chat/completions", json=body, headers=auth_a
        ) as second:
            assert second.status == 429, await second.text()
        await op.reply(task["id"], "Done.")
        response = await first
        assert response.status == 200
        assert json.loads(await response.text())["choices"][0]["message"]["content"] == "Done."
        response.release()


async def test_a_voice_session_is_announced_to_the_operator_its_tasks_go_to(pair: Pair) -> None:
    """A Realtime session opened on one front is announced to the ready operator on the
    other, recorded as its conversation's owner: its task follows by affinity."""
    op = await online(pair.a)
    async with client_of(pair.b) as client, client.realtime.connect(model="wizard") as conn:
        events = Events(conn)
        await events.until("session.created")
        await conn.session.update(session={"type": "realtime", "output_modalities": ["text"]})
        notice = await op.expect("voice_session")
        await stream(conn, silence(0.2) + tone(0.5) + silence(0.8))
        task = await op.next_task()
        assert task["voice"]["session_id"] == notice["session_id"]
        assert task["conversation_id"] == notice["conversation_id"]
        owner = await pair.b.runtime.dispatcher.conversation_owner(notice["conversation_id"])
        assert owner is not None and owner == await pair.a.runtime.dispatcher.conversation_owner(
            task["conversation_id"]
        )
        await op.reply(task["id"], "Yes?")
        await events.until("response.done")
