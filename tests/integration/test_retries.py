"""Retries: only a request that says it is a retry joins a task or gets an answer again.

The official SDKs number their attempts in `x-stainless-retry-count` (0 for the
first); any client may send an `Idempotency-Key`. Every other request is a new
task for a human, even with the very same body.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import aiohttp
import anthropic
import openai
import pytest

from tests.conftest import Woz, ask
from tests.integration.test_exports import run_woz
from woz.config import Settings

RETRY = {"x-stainless-retry-count": "1"}
HI = json.dumps({"model": "wizard", "messages": [{"role": "user", "content": "Hi"}]}).encode()


async def post_chat(
    session: aiohttp.ClientSession, woz: Woz, body: bytes, headers: dict[str, str]
) -> tuple[int, Any]:
    """POST `body` as raw bytes to /v1/chat/completions: the status and the JSON answer."""
    async with session.post(
        f"{woz.base_url}/chat/completions",
        data=body,
        headers={
            "Authorization": f"Bearer {woz.app_key}",
            "Content-Type": "application/json",
            **headers,
        },
    ) as response:
        return response.status, await response.json()


def answer_of(completion: Any) -> str:
    content: str = completion["choices"][0]["message"]["content"]
    return content


async def test_the_same_first_message_from_two_people_gets_two_human_answers(
    woz: Woz, openai_client: openai.AsyncOpenAI
) -> None:
    """The second "Hi" after the first was answered is a new task with its own record."""
    op = await woz.ready_operator()
    first = ask(openai_client, "Hi")
    task = await op.next_task()
    await op.reply(task["id"], "Hello, Ada.")
    assert (await first).choices[0].message.content == "Hello, Ada."
    second = ask(openai_client, "Hi")  # the same app, body and (no) participant
    new_task = await op.next_task()
    assert new_task["id"] != task["id"]
    await op.reply(new_task["id"], "Hello, Bob.")
    assert (await second).choices[0].message.content == "Hello, Bob."
    records = await woz.store.list_records(woz.study.id)
    assert [(r.task_id, r.status, r.replays) for r in records] == [
        (task["id"], "delivered", 0),
        (new_task["id"], "delivered", 0),
    ]


async def test_identical_requests_in_flight_without_a_retry_signal_are_separate_tasks(
    woz: Woz,
) -> None:
    """A first attempt (retry count 0, or no header) never joins another task in flight."""
    op = await woz.ready_operator(capacity=2)
    async with aiohttp.ClientSession() as session:
        first = asyncio.create_task(post_chat(session, woz, HI, {"x-stainless-retry-count": "0"}))
        first_task = await op.next_task()
        second = asyncio.create_task(post_chat(session, woz, HI, {}))
        second_task = await op.next_task()
        assert second_task["id"] != first_task["id"]
        await op.reply(second_task["id"], "Second answer.")
        await op.reply(first_task["id"], "First answer.")
        (first_status, first_body), (second_status, second_body) = await asyncio.gather(
            first, second
        )
    assert (first_status, answer_of(first_body)) == (200, "First answer.")
    assert (second_status, answer_of(second_body)) == (200, "Second answer.")
    records = await woz.store.list_records(woz.study.id)
    assert sorted(r.task_id for r in records) == sorted([first_task["id"], second_task["id"]])


async def test_a_retry_joins_the_task_in_flight(woz: Woz) -> None:
    """A request marked as a retry shares the answer of the same request in flight."""
    op = await woz.ready_operator(capacity=1)  # a second task would wait for ever
    messages = [{"role": "user", "content": "Same words"}]
    async with woz.openai(max_retries=0) as app:
        # Streams answer their headers once the task is submitted (or joined).
        first = await app.chat.completions.create(model="wizard", messages=messages, stream=True)
        task = await op.next_task()
        retry = await app.chat.completions.create(
            model="wizard", messages=messages, stream=True, extra_headers=RETRY
        )
        ack = await op.reply(task["id"], "One reply for both.")

        async def text(stream: openai.AsyncStream[Any]) -> str:
            return "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])

        assert await asyncio.gather(text(first), text(retry)) == ["One reply for both."] * 2
    assigned = [f["task"]["id"] for f in op.frames if f["type"] == "task.assigned"]
    assert assigned == [task["id"]]
    record = await woz.store.get_record(ack["record_id"])
    assert record is not None and record.replays == 0  # one answer, given once


async def test_an_sdk_retry_after_a_client_timeout_revives_the_task(woz: Woz) -> None:
    """The SDK really retries a timed-out request: one human answer reaches it, one record."""
    op = await woz.ready_operator()
    async with woz.openai(timeout=0.5, max_retries=2) as impatient:
        call = ask(impatient, "Please hurry")
        task = await op.next_task()
        await op.expect("task.revoked", task_id=task["id"])  # the first attempt timed out
        retried = await op.next_task(timeout=5)  # the SDK's retry revives the same task
        assert retried["id"] == task["id"]
        await op.reply(task["id"], "Answered once.")
        completion = await call
    assert completion.choices[0].message.content == "Answered once."
    records = await woz.store.list_records(woz.study.id)
    assert [(r.task_id, r.status, r.replays) for r in records] == [(task["id"], "delivered", 0)]


async def test_a_retry_goes_back_to_its_own_task_not_to_an_identical_one(
    woz: Woz, openai_client: openai.AsyncOpenAI
) -> None:
    """Two people send "Hi"; the first one's SDK times out and retries: it revives its own
    task, and each person gets the answer written for them."""
    op = await woz.ready_operator(capacity=2)
    async with woz.openai(timeout=3, max_retries=1) as impatient:
        ada = ask(impatient, "Hi")
        ada_task = await op.next_task()
        bob = ask(openai_client, "Hi")
        bob_task = await op.next_task()
        await op.expect("task.revoked", task_id=ada_task["id"])  # Ada's first attempt timed out
        retried = await op.next_task(timeout=10)
        assert retried["id"] == ada_task["id"]
        await op.reply(bob_task["id"], "Hello, Bob.")
        await op.reply(ada_task["id"], "Hello, Ada.")
        assert (await ada).choices[0].message.content == "Hello, Ada."
    assert (await bob).choices[0].message.content == "Hello, Bob."


async def test_a_retry_after_the_answer_gets_it_again_and_is_counted(
    woz: Woz, openai_client: openai.AsyncOpenAI, settings: Settings, tmp_path: Path
) -> None:
    """A retry whose answer was lost gets it again; the record counts the replay, and
    `woz records show` and exports say so."""
    op = await woz.ready_operator()
    first = ask(openai_client, "Lost on the way")
    task = await op.next_task()
    ack = await op.reply(task["id"], "Said once.")
    assert (await first).choices[0].message.content == "Said once."
    again = await ask(openai_client, "Lost on the way", extra_headers=RETRY)
    assert again.choices[0].message.content == "Said once."
    assigned = [f["task"]["id"] for f in op.frames if f["type"] == "task.assigned"]
    assert assigned == [task["id"]]
    [record] = await woz.store.list_records(woz.study.id)
    assert (record.id, record.status, record.replays) == (ack["record_id"], "delivered", 1)

    data = ("--data", str(settings.data))
    code, shown, err = await run_woz(*data, "records", "show", "--study", "test-study", record.id)
    assert code == 0, err
    assert json.loads(shown)["replays"] == 1
    out = tmp_path / "export"
    code, _, err = await run_woz(
        *data, "export", "--study", "test-study", "--format", "hf",
        "--purpose", "in_study_analysis", "--out", str(out),
    )  # fmt: skip
    assert code == 0, err
    [row] = [json.loads(line) for line in (out / "data.jsonl").read_text().splitlines()]
    assert row["replays"] == 1


@pytest.mark.parametrize("study_toml", [{"routing.retry_ttl_s": "0"}], indirect=True)
async def test_after_the_retry_window_a_retry_is_a_new_task(
    woz: Woz, openai_client: openai.AsyncOpenAI
) -> None:
    """Past `retry_ttl_s`, even a retry of the same request is a new question for a human."""
    op = await woz.ready_operator()
    first = ask(openai_client, "Twice")
    task = await op.next_task()
    await op.reply(task["id"], "First answer.")
    await first
    second = ask(openai_client, "Twice", extra_headers=RETRY)
    new_task = await op.next_task()
    assert new_task["id"] != task["id"]
    await op.reply(new_task["id"], "Second answer.")
    assert (await second).choices[0].message.content == "Second answer."


async def test_a_retry_from_another_participant_does_not_join(woz: Woz) -> None:
    """Another participant's request, even marked as a retry, is their own task."""
    op = await woz.ready_operator(capacity=2)
    async with aiohttp.ClientSession() as session:
        ada = asyncio.create_task(post_chat(session, woz, HI, {"X-Woz-Participant": "ada"}))
        ada_task = await op.next_task()
        bob = asyncio.create_task(
            post_chat(session, woz, HI, {"X-Woz-Participant": "bob", **RETRY})
        )
        bob_task = await op.next_task()
        assert bob_task["id"] != ada_task["id"]
        assert bob_task["participant"] != ada_task["participant"]
        await op.reply(bob_task["id"], "Hello, Bob.")
        await op.reply(ada_task["id"], "Hello, Ada.")
        (_, ada_body), (_, bob_body) = await asyncio.gather(ada, bob)
    assert (answer_of(ada_body), answer_of(bob_body)) == ("Hello, Ada.", "Hello, Bob.")


async def test_an_idempotency_key_gets_the_same_answer_and_is_bound_to_its_request(
    woz: Woz,
) -> None:
    """A repeated Idempotency-Key gets the answer again; reused for another request, a 400."""
    op = await woz.ready_operator()
    key = {"Idempotency-Key": "order-7"}
    async with aiohttp.ClientSession() as session:
        first = asyncio.create_task(post_chat(session, woz, HI, key))
        task = await op.next_task()
        ack = await op.reply(task["id"], "Hello once.")
        assert answer_of((await first)[1]) == "Hello once."
        status, again = await post_chat(session, woz, HI, key)  # no retry count: the key says it
        assert (status, answer_of(again)) == (200, "Hello once.")

        other = json.dumps({"model": "wizard", "messages": [{"role": "user", "content": "Bye"}]})
        status, refused = await post_chat(session, woz, other.encode(), key)
    assert status == 400
    assert refused["error"]["type"] == "invalid_request_error"
    assert refused["error"]["code"] == "idempotency_key_reused"
    async with anthropic.AsyncAnthropic(base_url=woz.url, api_key=woz.app_key, max_retries=0) as c:
        with pytest.raises(anthropic.BadRequestError) as caught:
            await c.messages.create(
                model="wizard",
                max_tokens=50,
                messages=[{"role": "user", "content": "Hi"}],
                extra_headers=key,
            )
    assert caught.value.body["error"]["type"] == "invalid_request_error"  # type: ignore[index]
    assert "Idempotency-Key" in caught.value.body["error"]["message"]  # type: ignore[index]
    assigned = [f["task"]["id"] for f in op.frames if f["type"] == "task.assigned"]
    assert assigned == [task["id"]]
    record = await woz.store.get_record(ack["record_id"])
    assert record is not None and record.replays == 1
