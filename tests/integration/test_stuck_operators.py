"""An operator whose socket stops taking data is cut off, and their tasks move on.

The stuck operator is a bare socket that says `ready` and then reads nothing, as
a frozen tab or a network cut that leaves TCP open would: the server must give
up on it once the stall time has passed, not wait for the heartbeat (a minute
here), and its tasks must reach an operator who reads.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import openai
import pytest
from openai import AsyncStream
from openai.types.chat import ChatCompletionChunk

from tests.conftest import Woz
from tests.integration.raw_operator import RawOperator
from woz.auth.tokens import create_key
from woz.config import Settings
from woz.testing import ScriptedOperator

WAIT_S = 15.0  # far below the heartbeat: only the send bounds can act in time
TASKS = 16
TASK_CHARS = 512 * 1024  # 8 MiB in all: past what the kernels buffer (4 MiB at most here)

Streams = list[AsyncStream[ChatCompletionChunk]]


@pytest.fixture
def settings(tmp_path: Path, request: pytest.FixtureRequest) -> Settings:
    """Pings too rare to matter, and a short stall time (or the test's own, as a parameter)."""
    return Settings(
        data=tmp_path / "data",
        keepalive_s=0.5,
        disconnect_poll_s=0.05,
        heartbeat_s=60.0,
        operator_stall_s=getattr(request, "param", 2.5),
        max_message_chars=2 * TASK_CHARS,  # big tasks are the point here
    )


@asynccontextmanager
async def stuck_with_tasks(
    woz: Woz, openai_client: openai.AsyncOpenAI
) -> AsyncIterator[tuple[RawOperator, Streams, ScriptedOperator]]:
    """A stuck operator (the study's first) holding every task of `TASKS` streamed requests,
    and Bea, a second operator, connected but not ready: she hears the queue figures.

    A streamed request returns once its headers arrive, when its task was assigned.
    """
    _, token = await create_key(woz.store, woz.study.id, "operator", "Bea")
    onlooker = await woz.make_operator(token)
    stuck = await RawOperator.connect(woz.url, woz.operator_token)
    streams: Streams = []
    try:
        await stuck.send({"type": "ready", "capacity": TASKS})
        await onlooker.expect("queue", operators_online=1)
        filler = "x" * TASK_CHARS
        streams = await asyncio.gather(
            *(
                openai_client.chat.completions.create(
                    model="wizard",
                    messages=[{"role": "user", "content": f"Question {i} {filler}"}],
                    stream=True,
                )
                for i in range(TASKS)
            )
        )
        yield stuck, streams, onlooker
    finally:
        stuck.close()
        for stream in streams:
            await stream.close()


async def answer_all(operator: ScriptedOperator, streams: Streams) -> list[dict[str, object]]:
    """`operator` answers every task; each app gets the answer to its own question."""
    tasks = [await operator.next_task(timeout=WAIT_S) for _ in range(TASKS)]
    for task in tasks:
        question = task["messages"][-1]["content"][0]["text"]
        await operator.reply(task["id"], "Answer to " + question.split(" x")[0])

    async def text_of(stream: AsyncStream[ChatCompletionChunk]) -> str:
        chunks = [chunk async for chunk in stream]
        return "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)

    answers = await asyncio.wait_for(asyncio.gather(*map(text_of, streams)), WAIT_S)
    assert answers == [f"Answer to Question {i}" for i in range(TASKS)]
    return tasks


async def test_an_operator_who_stops_reading_is_cut_off_and_their_tasks_move_on(
    woz: Woz, openai_client: openai.AsyncOpenAI
) -> None:
    """A socket that reads nothing is closed after the stall time; another operator answers."""
    async with stuck_with_tasks(woz, openai_client) as (stuck, streams, bea):
        # The tasks all wait in the queue again only once the stuck operator's grace (1 s)
        # is over, and the grace starts only when the server has given up on its socket.
        await bea.expect("queue", waiting=TASKS, timeout=WAIT_S)
        await bea.ready(TASKS)
        tasks = await answer_all(bea, streams)
        assert {task["attempt"] for task in tasks} == {2}  # each taken from the stuck operator
        # The server closed the socket: once the client reads again, it reaches the end,
        # without the frames that were still queued for it.
        await asyncio.wait_for(stuck.read_to_end(), WAIT_S)
        assert stuck.received < TASKS * TASK_CHARS


async def test_an_operator_stuck_on_a_dead_socket_reconnects_and_gets_their_tasks(
    woz: Woz, openai_client: openai.AsyncOpenAI
) -> None:
    """Reconnecting from elsewhere, an operator is not held up by their own stuck socket."""
    async with stuck_with_tasks(woz, openai_client) as (stuck, streams, _):
        back = await woz.make_operator()  # the same operator, on a new network
        await back.ready(TASKS)
        await answer_all(back, streams)
        await asyncio.wait_for(stuck.read_to_end(), WAIT_S)


@pytest.mark.parametrize("settings", [600.0], indirect=True)  # never given up on meanwhile
async def test_shutting_down_is_not_held_up_by_a_stuck_operator(
    woz: Woz, openai_client: openai.AsyncOpenAI
) -> None:
    """A closing frame that cannot be sent gives way to an abort: the server stops anyway."""
    async with stuck_with_tasks(woz, openai_client) as (stuck, _, _):
        await asyncio.wait_for(woz.server.close(), WAIT_S)
        await asyncio.wait_for(stuck.read_to_end(), WAIT_S)
