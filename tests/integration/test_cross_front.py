"""Two `woz serve` processes on PostgreSQL and Redis: the official `openai` SDK on one,
protocol operators on the other, and one of them killed or its Redis restarted."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time

import aiohttp
import openai
import pytest

from tests.conftest import live_then_reply
from tests.integration.woz_processes import PrivateRedis, deployment
from woz.operators.client import OperatorClient

pytestmark = pytest.mark.timeout(180)
RETRY = {"x-stainless-retry-count": "1"}


def chat(client: openai.AsyncOpenAI, text: str, **kwargs: object) -> asyncio.Task[str]:
    async def run() -> str:
        completion = await client.chat.completions.create(
            model="wizard",
            messages=[{"role": "user", "content": text}],
            **kwargs,  # type: ignore[arg-type]
        )
        return completion.choices[0].message.content or ""

    return asyncio.create_task(run())


async def waiters_of(url: str, researcher: str, count: int) -> None:
    """Wait until the watch view (asked of any process) shows a task with `count` waiters."""
    async with aiohttp.ClientSession() as http, asyncio.timeout(10):
        while True:
            async with http.get(
                f"{url}/watch/state", headers={"Authorization": f"Bearer {researcher}"}
            ) as response:
                state = await response.json()
            if any(task["waiters"] == count for task in state["tasks"]):
                return
            await asyncio.sleep(0.05)


async def test_streamed_live_typing_from_an_operator_on_the_other_process() -> None:
    """Client on B, operator on A: live words reach the stream before the reply ends it."""
    async with deployment() as woz:
        app, token = await woz.key("app"), await woz.key("operator", "Olive")
        a, b = await woz.start(), await woz.start()
        async with (
            OperatorClient(a.url, token) as op,
            openai.AsyncOpenAI(base_url=b.base_url, api_key=app, max_retries=0) as client,
        ):
            await op.ready()
            await op.expect("queue", operators_online=1)
            stream = await client.chat.completions.create(
                model="wizard-live", messages=[{"role": "user", "content": "Hi"}], stream=True
            )
            task = await op.next_task()
            await op.typing(task["id"], "Typed on A ")
            seen = await live_then_reply(
                stream, "Typed on A", lambda: op.reply(task["id"], "Typed on A and sent.")
            )
        assert seen == "Typed on A and sent."


async def test_a_retry_on_the_other_process_is_answered_once_and_an_abort_revokes_in_a_second() -> (
    None
):
    async with deployment() as woz:
        app, token = await woz.key("app"), await woz.key("operator", "Olive")
        researcher = await woz.key("researcher")
        a, b = await woz.start(), await woz.start()
        async with (
            OperatorClient(a.url, token) as op,
            openai.AsyncOpenAI(base_url=b.base_url, api_key=app, max_retries=0) as on_b,
            openai.AsyncOpenAI(base_url=a.base_url, api_key=app, max_retries=0) as on_a,
        ):
            await op.ready()
            await op.expect("queue", operators_online=1)
            first = chat(on_b, "Once only")
            task = await op.next_task()
            retry = chat(on_a, "Once only", extra_headers=RETRY)
            await waiters_of(a.url, researcher, 2)  # the retry on A joined B's task
            ack = await op.reply(task["id"], "Said once.")
            assert ack["type"] == "reply.ack"
            assert await first == "Said once."
            assert await retry == "Said once."
            assert [f["type"] for f in op.frames].count("task.assigned") == 1

            leaving = chat(on_b, "Never mind")
            second = await op.next_task()
            leaving.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await leaving
            left_at = time.monotonic()
            revoked = await op.expect("task.revoked", timeout=1.0)
            assert revoked["task_id"] == second["id"] and revoked["reason"] == "client_gone"
            assert time.monotonic() - left_at < 1.0


async def test_killing_the_process_holding_the_operator_loses_no_task() -> None:
    """kill -9 of A mid-task: the operator reconnects through B, gets the task back, and
    the answer reaches the client waiting on B."""
    async with deployment() as woz:
        app, token = await woz.key("app"), await woz.key("operator", "Olive")
        a, b = await woz.start(), await woz.start()
        op = OperatorClient(a.url, token, urls=[b.url])
        async with (
            op,
            openai.AsyncOpenAI(base_url=b.base_url, api_key=app, max_retries=2) as client,
        ):
            await op.ready()
            await op.expect("queue", operators_online=1)
            waiting = chat(client, "Are you there?")
            task = await op.next_task()
            a.process.send_signal(signal.SIGKILL)
            await a.process.wait()
            held = await op.reconnect(pause_s=0.1)
            assert [t.id for t in held] == [task["id"]]
            await op.ready()
            ack = await op.reply(task["id"], "Still here.")
            assert ack["type"] == "reply.ack"
            assert await waiting == "Still here."


async def test_a_redis_restart_mid_load_loses_no_committed_answer() -> None:
    """A private Redis is killed and started again (empty) while requests wait: every
    request is answered, each by its own committed record."""
    redis = PrivateRedis()
    await redis.start()
    try:
        async with deployment(redis.url) as woz:
            app, token = await woz.key("app"), await woz.key("operator", "Olive")
            a, b = await woz.start(), await woz.start()
            async with (
                OperatorClient(a.url, token, urls=[b.url]) as op,
                openai.AsyncOpenAI(base_url=b.base_url, api_key=app, max_retries=5) as client,
            ):
                await op.ready(capacity=5)
                await op.expect("queue", operators_online=1)
                questions = [f"Question {i}" for i in range(10)]
                waiting = [chat(client, q) for q in questions]
                first = [await op.next_task() for _ in range(5)]
                for task in first[:2]:  # two answered before the restart
                    await op.reply(task["id"], task["messages"][-1]["content"][0]["text"] + "!")
                await redis.stop()
                await redis.start()
                # Answer everything the operator holds, or is given again, until all are done.
                async with asyncio.timeout(60):
                    while not all(w.done() for w in waiting):
                        for task_id, view in list(op.held.items()):
                            text = view.messages[-1]["content"][0]["text"]
                            await op.reply(task_id, text + "!", wait=False)
                            op.held.pop(task_id, None)
                        with contextlib.suppress(AssertionError):
                            await op.expect("task.assigned", timeout=0.5)
                            op._unread.clear()
                answers = [await w for w in waiting]
            assert answers == [q + "!" for q in questions]
    finally:
        await redis.remove()
