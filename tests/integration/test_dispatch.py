"""Routing behaviours seen from the outside: aborts, drops, limits, timeouts (retries:
test_retries.py)."""

from __future__ import annotations

import asyncio

import openai
import pytest

from tests.conftest import Woz, ask
from woz.auth.tokens import create_key

HELLO = [{"role": "user", "content": "Hello?"}]


async def test_client_abort_revokes_the_task_within_a_second(woz: Woz) -> None:
    """When the app gives up, the operator is told at once and the record says client_gone."""
    op = await woz.ready_operator()
    app = woz.openai(max_retries=0)
    call = ask(app)
    task = await op.next_task()
    call.cancel()
    await app.close()  # the app's connection closes, as when a user closes the page
    revoked = await op.expect("task.revoked", timeout=1.0)
    assert revoked == {"type": "task.revoked", "task_id": task["id"], "reason": "client_gone"}
    records = await woz.store.list_records(woz.study.id)
    assert [r.status for r in records] == ["client_gone"]
    rejected = await op.reply(task["id"], "too late")
    assert rejected["type"] == "reply.rejected"


async def test_dropped_operator_task_goes_to_another_after_grace(
    woz: Woz, openai_client: openai.AsyncOpenAI
) -> None:
    """An operator who vanishes loses the task after the grace; the app still gets its answer."""
    first = await woz.ready_operator()
    call = ask(openai_client)
    task = await first.next_task()
    second = await woz.ready_operator(token=await _second_operator(woz))
    await second.expect("queue", operators_online=2)
    seen = len(second.frames)
    await first.drop()
    again = await second.next_task(timeout=5)
    assert again["id"] == task["id"] and again["attempt"] == 2
    # During the grace, the dropped operator was not counted as online.
    during_grace = [f["operators_online"] for f in second.frames[seen:] if f["type"] == "queue"]
    assert during_grace[0] == 1
    ack = await second.reply(again["id"], "Covered for my colleague.")
    assert (await call).choices[0].message.content == "Covered for my colleague."
    record = await woz.store.get_record(ack["record_id"])
    assert record is not None and record.timings.attempts == 2


async def test_reconnecting_operator_gets_held_task_and_draft_back(
    woz: Woz, openai_client: openai.AsyncOpenAI
) -> None:
    """Within the grace, the same operator reconnects and continues where they were."""
    first = await woz.ready_operator()
    call = ask(openai_client)
    task = await first.next_task()
    await first.typing(task["id"], "Half an ans")
    await first.drop()
    back = await woz.make_operator()
    resent = await back.next_task()
    assert resent["id"] == task["id"] and resent["draft"] == "Half an ans"
    await back.reply(task["id"], "Half an answer, finished.")
    assert (await call).choices[0].message.content == "Half an answer, finished."


@pytest.mark.parametrize("study_toml", [{"routing.queue_limit": "1"}], indirect=True)
async def test_full_queue_is_503(woz: Woz, openai_client: openai.AsyncOpenAI) -> None:
    """Past the study's queue limit, requests are refused at once with Retry-After."""
    op = await woz.make_operator()
    await op.ready(capacity=1)
    held = ask(openai_client, "first")
    await op.next_task()
    waiting = ask(openai_client, "second")
    await op.expect("queue", waiting=1)
    with pytest.raises(openai.InternalServerError) as caught:
        await openai_client.chat.completions.create(
            model="wizard", messages=[{"role": "user", "content": "third"}]
        )
    assert caught.value.status_code == 503 and caught.value.code == "queue_full"
    assert caught.value.response.headers["retry-after"]
    held.cancel()
    waiting.cancel()


async def test_conversation_stays_with_its_operator(
    woz: Woz, openai_client: openai.AsyncOpenAI
) -> None:
    """A plain SDK client's next turn goes to the operator who answered the first."""
    olive = await woz.make_operator()
    await olive.ready(capacity=2)
    first = ask(openai_client, "Turn one")
    task = await olive.next_task()
    await olive.reply(task["id"], "Answer one")
    await first
    other = await woz.make_operator(await _second_operator(woz))
    await other.ready(capacity=2)
    await olive.ready(capacity=2)
    follow_up = asyncio.create_task(
        openai_client.chat.completions.create(
            model="wizard",
            messages=[
                {"role": "user", "content": "Turn one"},
                {"role": "assistant", "content": "Answer one"},
                {"role": "user", "content": "Turn two"},
            ],
        )
    )
    second = await olive.next_task()
    assert second["conversation_id"] == task["conversation_id"]
    await olive.reply(second["id"], "Answer two")
    await follow_up


async def test_explicit_conversation_header_threads_requests(
    woz: Woz, openai_client: openai.AsyncOpenAI
) -> None:
    """X-Woz-Conversation groups requests whatever their messages."""
    op = await woz.make_operator()
    await op.ready(capacity=2)
    headers = {"X-Woz-Conversation": "chat-7"}
    a = ask(openai_client, "one", extra_headers=headers)
    b = ask(openai_client, "two", extra_headers=headers)
    first, second = await op.next_task(), await op.next_task()
    assert first["conversation_id"] == second["conversation_id"]
    assert "chat-7" not in first["conversation_id"]
    for t in (first, second):
        await op.reply(t["id"], "ok")
    await asyncio.gather(a, b)


async def test_release_hands_the_task_to_someone_else(
    woz: Woz, openai_client: openai.AsyncOpenAI
) -> None:
    """Escape in the console: the task goes back to the queue and to another operator."""
    olive = await woz.ready_operator()
    call = ask(openai_client)
    task = await olive.next_task()
    other = await woz.ready_operator(token=await _second_operator(woz))
    await olive.release(task["id"])
    moved = await other.next_task()
    assert moved["id"] == task["id"]
    await other.reply(task["id"], "Taken over")
    assert (await call).choices[0].message.content == "Taken over"


async def _second_operator(woz: Woz) -> str:
    """A second operator's token, for tests where the task changes hands."""
    _, token = await create_key(woz.store, woz.study.id, "operator", "Bea")
    return token
