"""Chat Completions in full: the SDK's stream helper with parallel tool calls, images the
server never fetches, and the per-participant limit that answers 429 in both dialects."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

import anthropic
import openai
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from tests.conftest import Woz, ask

HITS = web.AppKey("hits", list[str])
TOOLS: Any = [
    {
        "type": "function",
        "function": {
            "name": name,
            "description": f"The {name.split('_')[1]} in a city",
            "parameters": {
                "type": "object",
                "properties": {"city": {"type": "string"}},
                "required": ["city"],
                "additionalProperties": False,
            },
        },
    }
    for name in ("get_weather", "get_time")
]
LIMIT_TWO = {"routing.max_in_flight_per_participant": "2"}
ONE = {"routing.max_in_flight_per_participant": "1"}


async def test_stream_helper_assembles_two_parallel_tool_calls(
    woz: Woz, openai_client: openai.AsyncOpenAI
) -> None:
    """`chat.completions.stream()` ends with two calls: ids and names once, arguments JSON."""
    op = await woz.online_operator()

    async def run() -> Any:
        async with openai_client.chat.completions.stream(
            model="wizard",
            messages=[{"role": "user", "content": "Weather and time in Oslo and Lima?"}],
            tools=TOOLS,
        ) as stream:
            kinds = [event.type async for event in stream]
            return kinds, await stream.get_final_completion()

    call = asyncio.create_task(run())
    task = await op.next_task()
    calls = [
        {"name": "get_weather", "arguments": {"city": "Oslo"}},
        {"name": "get_time", "arguments": '{"city": "Lima"}'},
    ]
    assert (await op.reply(task["id"], tool_calls=calls))["type"] == "reply.ack"
    kinds, final = await call
    assert kinds.count("tool_calls.function.arguments.done") == 2
    [choice] = final.choices
    # The role chunk goes out before the answer exists, with `content: ""` (WIRE.md).
    assert choice.finish_reason == "tool_calls" and not choice.message.content
    tool_calls = choice.message.tool_calls
    assert [c.function.name for c in tool_calls] == ["get_weather", "get_time"]
    assert [json.loads(c.function.arguments) for c in tool_calls] == [
        {"city": "Oslo"},
        {"city": "Lima"},
    ]
    ids = [c.id for c in tool_calls]
    assert len(set(ids)) == 2 and all(i.startswith("call_") and len(i) < 40 for i in ids)
    assert all(c.type == "function" for c in tool_calls)


@pytest.fixture
async def image_host(aiohttp_server: Callable[..., Awaitable[TestServer]]) -> TestServer:
    """A web server that counts every request, standing in for an image's https host."""

    async def count(request: web.Request) -> web.Response:
        request.app[HITS].append(request.path)
        return web.Response(body=b"\x89PNG", content_type="image/png")

    app = web.Application()
    app[HITS] = []
    app.router.add_get("/{name}", count)
    return await aiohttp_server(app)


async def test_image_parts_reach_the_operator_and_are_never_fetched(
    woz: Woz, openai_client: openai.AsyncOpenAI, image_host: TestServer
) -> None:
    """Image URLs and data URLs go to the operator as they are; the server requests neither."""
    op = await woz.online_operator()
    url = str(image_host.make_url("/scarf.png"))
    data_url = "data:image/png;base64,iVBORw0KGgo="
    content: Any = [
        {"type": "text", "text": "Which is nicer?"},
        {"type": "image_url", "image_url": {"url": url, "detail": "high"}},
        {"type": "image_url", "image_url": {"url": data_url}},
    ]
    call = asyncio.create_task(
        openai_client.chat.completions.create(
            model="wizard", messages=[{"role": "user", "content": content}]
        )
    )
    task = await op.next_task()
    parts = task["messages"][0]["content"]
    assert parts[1:] == [{"type": "image", "url": url}, {"type": "image", "url": data_url}]
    await op.reply(task["id"], "The first.")
    assert (await call).choices[0].message.content == "The first."
    assert image_host.app[HITS] == []


@pytest.mark.parametrize("study_toml", [LIMIT_TWO], indirect=True)
async def test_too_many_requests_in_flight_for_one_participant_is_a_429(
    woz: Woz, openai_client: openai.AsyncOpenAI
) -> None:
    """Past the limit the SDK raises RateLimitError with Retry-After; others are unaffected."""
    op = await woz.online_operator(capacity=5)
    first = ask(openai_client, "one", user="ada")
    second = ask(openai_client, "two", user="ada")
    tasks = [await op.next_task(), await op.next_task()]
    with pytest.raises(openai.RateLimitError) as caught:
        await openai_client.chat.completions.create(
            model="wizard", messages=[{"role": "user", "content": "three"}], user="ada"
        )
    assert caught.value.status_code == 429 and caught.value.code == "rate_limit_exceeded"
    assert caught.value.type == "rate_limit_error"
    assert caught.value.response.headers["retry-after"] == "5"
    other = ask(openai_client, "hello", user="grace")
    other_task = await op.next_task()
    await op.reply(other_task["id"], "Hi Grace.")
    assert (await other).choices[0].message.content == "Hi Grace."
    await op.reply(tasks[0]["id"], "Answer one.")
    await first
    third = ask(openai_client, "three", user="ada")
    third_task = await op.next_task()
    for task in (tasks[1], third_task):
        await op.reply(task["id"], "Done.")
    assert [(await c).choices[0].message.content for c in (second, third)] == ["Done.", "Done."]


@pytest.mark.parametrize("study_toml", [ONE], indirect=True)
async def test_the_limit_is_a_429_in_anthropic_shape_too(woz: Woz) -> None:
    """The anthropic SDK raises its RateLimitError, with Anthropic's error body."""
    op = await woz.online_operator()
    async with anthropic.AsyncAnthropic(
        base_url=woz.url, api_key=woz.app_key, max_retries=0, _strict_response_validation=True
    ) as claude:

        def say(text: str) -> Any:
            return claude.messages.create(
                model="wizard",
                max_tokens=100,
                messages=[{"role": "user", "content": text}],
                metadata={"user_id": "ada"},
            )

        first = asyncio.create_task(say("one"))
        task = await op.next_task()
        with pytest.raises(anthropic.RateLimitError) as caught:
            await say("two")
        assert caught.value.body == {
            "type": "error",
            "error": {"type": "rate_limit_error", "message": caught.value.body["error"]["message"]},
        }
        assert caught.value.response.headers["retry-after"] == "5"
        await op.reply(task["id"], "One.")
        assert (await first).content[0].text == "One."  # type: ignore[union-attr]


@pytest.mark.parametrize("study_toml", [ONE], indirect=True)
async def test_the_sdks_retry_of_its_request_is_not_refused(woz: Woz) -> None:
    """With a limit of one, a timed-out request's retry revives its task instead of a 429."""
    op = await woz.online_operator()
    async with woz.openai(timeout=0.5, max_retries=2) as impatient:
        call = ask(impatient, "Please hurry", user="ada")
        task = await op.next_task()
        await op.expect("task.revoked", task_id=task["id"])  # the first attempt timed out
        assert (await op.next_task(timeout=5))["id"] == task["id"]
        await op.reply(task["id"], "Answered once.")
        assert (await call).choices[0].message.content == "Answered once."
