"""What the app sees while a human thinks: keep-alives, live typing, and timeouts."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator

import aiohttp
import openai
import pytest

from tests.conftest import STUDY_TOML, Woz, ask, with_values

FALLBACK = {
    "routing.answer_timeout_s": "0.5",
    "routing.on_timeout": '"fallback"',
    "routing.fallback_text": '"Back in a moment."',
}
ERROR = {"routing.answer_timeout_s": "0.5", "routing.on_timeout": '"error"'}


@contextlib.asynccontextmanager
async def raw_stream(woz: Woz, body: dict[str, object]) -> AsyncIterator[aiohttp.StreamReader]:
    """POST a streaming request with a plain HTTP client, to see the bytes on the wire."""
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            woz.base_url + "/chat/completions",
            json=body,
            headers={"Authorization": f"Bearer {woz.app_key}"},
        ) as response,
    ):
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/event-stream")
        assert response.headers["x-request-id"].startswith("req_")
        yield response.content


async def test_stream_sends_role_at_once_then_keepalives_then_done(woz: Woz) -> None:
    """Before any answer exists the client has the role chunk and SSE comment keep-alives."""
    op = await woz.ready_operator()
    body = {"model": "wizard", "stream": True, "messages": [{"role": "user", "content": "hm"}]}
    async with raw_stream(woz, body) as reader:
        first = await asyncio.wait_for(reader.readuntil(b"\n\n"), 5)
        chunk = json.loads(first.removeprefix(b"data: "))
        assert chunk["choices"][0]["delta"] == {"role": "assistant", "content": "", "refusal": None}
        task = await op.next_task()
        keepalive = await asyncio.wait_for(reader.readuntil(b"\n\n"), 5)
        assert keepalive == b": keep-alive\n\n"
        await op.reply(task["id"], "Done thinking.")
        rest = await asyncio.wait_for(reader.read(), 5)
    frames = [f for f in rest.decode().split("\n\n") if f and not f.startswith(":")]
    assert all(f.startswith("data: ") and "\n" not in f for f in frames)
    assert frames[-1] == "data: [DONE]"
    text = "".join(
        json.loads(f[6:])["choices"][0]["delta"].get("content") or "" for f in frames[:-1]
    )
    assert text == "Done thinking."


async def test_live_mode_streams_typing_as_it_grows(
    woz: Woz, openai_client: openai.AsyncOpenAI
) -> None:
    """A live persona streams whole words as the operator types them."""
    op = await woz.ready_operator()
    stream = await openai_client.chat.completions.create(
        model="org/wizard-live", messages=[{"role": "user", "content": "hi"}], stream=True
    )
    chunks = aiter(stream)
    assert (await anext(chunks)).choices[0].delta.role == "assistant"
    task = await op.next_task()
    assert task["live"] is True
    await op.typing(task["id"], "Hello wor")
    assert (await anext(chunks)).choices[0].delta.content == "Hello "
    await op.typing(task["id"], "Hello world, how")
    assert (await anext(chunks)).choices[0].delta.content == "world, "
    rejected = await op.reply(task["id"], "Goodbye")
    assert rejected["type"] == "reply.rejected"
    assert rejected["error"]["code"] == "live_text_sent"
    assert (await op.reply(task["id"], "Hello world, how are you?"))["type"] == "reply.ack"
    rest = [c async for c in chunks]
    assert "".join(c.choices[0].delta.content or "" for c in rest if c.choices) == "how are you?"


@pytest.mark.parametrize("study_toml", [FALLBACK], indirect=True)
async def test_timeout_falls_back_and_is_recorded_as_fallback(
    woz: Woz, openai_client: openai.AsyncOpenAI
) -> None:
    """When nobody answers in time the app gets the study's fallback, recorded as such."""
    op = await woz.ready_operator()
    call = ask(openai_client, "anyone?")
    task = await op.next_task()
    revoked = await op.expect("task.revoked", timeout=5)
    assert revoked["reason"] == "expired" and revoked["task_id"] == task["id"]
    completion = await call
    assert completion.choices[0].message.content == "Back in a moment."
    [record] = await woz.store.list_records(woz.study.id)
    assert record.produced_by == "fallback" and record.operator is None


@pytest.mark.parametrize("study_toml", [ERROR], indirect=True)
async def test_timeout_as_error_is_a_504_not_retried(
    woz: Woz, openai_client: openai.AsyncOpenAI
) -> None:
    """on_timeout = error: a 504 the SDK does not retry, and an expired record."""
    await woz.ready_operator()
    with pytest.raises(openai.APIStatusError) as caught:
        await openai_client.chat.completions.create(
            model="wizard", messages=[{"role": "user", "content": "anyone?"}]
        )
    assert caught.value.status_code == 504
    assert caught.value.response.headers["x-should-retry"] == "false"
    [record] = await woz.store.list_records(woz.study.id)
    assert record.status == "expired" and record.answer is None


@pytest.mark.parametrize("study_toml", [ERROR], indirect=True)
async def test_timeout_mid_stream_raises_api_error(
    woz: Woz, openai_client: openai.AsyncOpenAI
) -> None:
    """An error after the stream began arrives as an error frame the SDK raises."""
    await woz.ready_operator()
    stream = await openai_client.chat.completions.create(
        model="wizard", messages=[{"role": "user", "content": "anyone?"}], stream=True
    )
    with pytest.raises(openai.APIError, match="No operator answered in time"):
        async for _ in stream:
            pass


DECEPTIVE = with_values(
    STUDY_TOML.replace(
        'title = "A test study"\n',
        'title = "A test study"\ndeception = "concealed"\nirb_protocol = "IRB-1"\n'
        '[study.debrief]\ntext = "A person wrote the answers."\n',
    ),
    ERROR,
)


@pytest.mark.parametrize("study_toml", [DECEPTIVE], indirect=True)
async def test_a_deceptive_study_keeps_its_cover_in_error_messages(
    woz: Woz, openai_client: openai.AsyncOpenAI
) -> None:
    """Errors an app might show a participant never mention people; the codes stay exact."""
    with pytest.raises(openai.InternalServerError) as overloaded:
        await openai_client.chat.completions.create(
            model="wizard", messages=[{"role": "user", "content": "hello?"}]
        )
    assert overloaded.value.code == "no_operator_online"
    assert "operator" not in str(overloaded.value.message).lower()
    await woz.ready_operator()
    stream = await openai_client.chat.completions.create(
        model="wizard", messages=[{"role": "user", "content": "anyone?"}], stream=True
    )
    with pytest.raises(openai.APIError) as expired:
        async for _ in stream:
            pass
    assert "timed out" in str(expired.value) and "operator" not in str(expired.value).lower()
