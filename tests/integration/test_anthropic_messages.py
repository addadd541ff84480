"""The official anthropic SDK against a live woz, answered by a scripted operator."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import anthropic
import pytest
from anthropic.types import Message, MessageParam, RawMessageStreamEvent

from tests.conftest import Woz
from woz.testing import ScriptedOperator

ERROR = {"routing.answer_timeout_s": "0.5", "routing.on_timeout": '"error"'}
HOLOGRAM: Any = {"type": "hologram"}  # no such content block
PACED = {"pacing.tokens_per_second": "1000"}  # fast, but in many pieces
WEATHER: Any = {
    "name": "get_weather",
    "description": "The weather in a city",
    "input_schema": {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
    },
}
# What `messages.stream()` adds to the wire's events, for convenience.
DERIVED = {"text", "input_json", "citation", "thinking", "signature"}
PIXEL = (  # a 1x1 PNG
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


def client(woz: Woz, **kwargs: Any) -> anthropic.AsyncAnthropic:
    """The official SDK pointed at woz: its base URL is the server root, not /v1."""
    kwargs.setdefault("api_key", woz.app_key)
    return anthropic.AsyncAnthropic(
        base_url=woz.url, max_retries=0, _strict_response_validation=True, **kwargs
    )


@pytest.fixture
async def claude(woz: Woz) -> AsyncIterator[anthropic.AsyncAnthropic]:
    async with client(woz) as c:
        yield c


async def online(woz: Woz) -> ScriptedOperator:
    """An operator the dispatcher already counts as ready (seen in its queue broadcast)."""
    op = await woz.make_operator()
    await op.ready()
    await op.expect("queue", operators_online=1)
    return op


def say(claude: anthropic.AsyncAnthropic, text: str, **kwargs: Any) -> asyncio.Task[Message]:
    """Start a non-streaming `messages.create` with one user turn, in the background."""
    kwargs.setdefault("model", "wizard")
    kwargs.setdefault("max_tokens", 256)
    return asyncio.create_task(
        claude.messages.create(messages=[{"role": "user", "content": text}], **kwargs)
    )


async def streamed(
    claude: anthropic.AsyncAnthropic, messages: list[MessageParam], **kwargs: Any
) -> tuple[list[RawMessageStreamEvent], Message]:
    """The wire's events of a `messages.stream()` and the SDK's accumulated final message."""
    kwargs.setdefault("model", "wizard")
    kwargs.setdefault("max_tokens", 256)
    async with claude.messages.stream(messages=messages, **kwargs) as stream:
        events = [event async for event in stream if event.type not in DERIVED]
        return events, await stream.get_final_message()  # type: ignore[return-value]


async def test_create_returns_the_operators_text(
    woz: Woz, claude: anthropic.AsyncAnthropic
) -> None:
    """A plain create() is a well-formed message with the operator's words and end_turn."""
    op = await online(woz)
    call = say(claude, "Recommend a scarf", system="Be brief.", metadata={"user_id": "p-7"})
    task = await op.next_task()
    assert task["api"] == "anthropic.messages"
    assert [m["role"] for m in task["messages"]] == ["system", "user"]
    assert task["messages"][0]["content"][0]["text"] == "Be brief."
    assert task["messages"][1]["content"][0]["text"] == "Recommend a scarf"
    ack = await op.reply(task["id"], "Try the cashmere one.")
    message = await call
    assert message.id.startswith("msg_") and message.type == "message"
    assert message.role == "assistant" and message.model == "wizard"
    assert [(b.type, getattr(b, "text", None)) for b in message.content] == [
        ("text", "Try the cashmere one.")
    ]
    assert message.stop_reason == "end_turn" and message.stop_sequence is None
    assert message.usage.input_tokens > 0 and message.usage.output_tokens > 0
    record = await woz.store.get_record(ack["record_id"])
    assert record is not None and record.api == "anthropic.messages"
    assert record.participant is not None and "p-7" not in record.participant
    assert record.status == "delivered"


async def test_stream_sends_events_in_order(woz: Woz, claude: anthropic.AsyncAnthropic) -> None:
    """message_start, one text block, message_delta and message_stop; the text joins back."""
    op = await online(woz)
    text = "Here is a longer answer, with punctuation; and several words."
    call = asyncio.create_task(streamed(claude, [{"role": "user", "content": "Talk"}]))
    task = await op.next_task()
    await op.reply(task["id"], text)
    events, final = await call
    kinds = [e.type for e in events]
    assert kinds[:2] == ["message_start", "content_block_start"]
    assert kinds[-3:] == ["content_block_stop", "message_delta", "message_stop"]
    assert set(kinds[2:-3]) == {"content_block_delta"}
    assert "".join(e.delta.text for e in events if e.type == "content_block_delta") == text  # type: ignore[union-attr]
    assert final.content[0].type == "text" and final.content[0].text == text
    assert final.stop_reason == "end_turn" and final.usage.output_tokens > 0


async def test_tool_use_without_streaming(woz: Woz, claude: anthropic.AsyncAnthropic) -> None:
    """tool_choice any requires a call; the reply is a tool_use block with a toolu_ id."""
    op = await online(woz)
    call = say(claude, "Weather in Oslo?", tools=[WEATHER], tool_choice={"type": "any"})
    task = await op.next_task()
    assert task["tool_choice"]["mode"] == "required"
    assert task["tools"][0]["parameters"]["required"] == ["city"]
    rejected = await op.reply(task["id"], "It is sunny.")
    assert rejected["type"] == "reply.rejected"
    await op.reply(task["id"], tool_calls=[{"name": "get_weather", "arguments": '{"city":"Oslo"}'}])
    message = await call
    [block] = message.content
    assert block.type == "tool_use"
    assert block.id.startswith("toolu_") and block.name == "get_weather"
    assert block.input == {"city": "Oslo"}
    assert message.stop_reason == "tool_use"


@pytest.mark.parametrize("study_toml", [PACED], indirect=True)
async def test_streamed_tool_use_and_its_result_continue_the_conversation(
    woz: Woz, claude: anthropic.AsyncAnthropic
) -> None:
    """Text then a tool_use block stream; the tool_result comes back as a neutral tool message."""
    op = await online(woz)
    question: MessageParam = {"role": "user", "content": "Weather in Oslo?"}
    call = asyncio.create_task(streamed(claude, [question], tools=[WEATHER]))
    task = await op.next_task()
    await op.reply(
        task["id"],
        "Let me check.",
        tool_calls=[{"name": "get_weather", "arguments": '{"city": "Oslo"}'}],
    )
    events, final = await call
    starts = [e.content_block.type for e in events if e.type == "content_block_start"]
    assert starts == ["text", "tool_use"]
    json_pieces = [
        e.delta.partial_json
        for e in events
        if e.type == "content_block_delta" and e.delta.type == "input_json_delta"
    ]
    assert len(json_pieces) > 1 and "".join(json_pieces) == '{"city": "Oslo"}'
    text, tool_use = final.content
    assert text.type == "text" and text.text == "Let me check."
    assert tool_use.type == "tool_use" and tool_use.input == {"city": "Oslo"}
    assert final.stop_reason == "tool_use"

    result: MessageParam = {
        "role": "user",
        "content": [
            {"type": "tool_result", "tool_use_id": tool_use.id, "content": "12°C, clear"},
            {"type": "text", "text": "And tomorrow?"},
        ],
    }
    follow_up = asyncio.create_task(
        claude.messages.create(
            model="wizard",
            max_tokens=256,
            tools=[WEATHER],
            messages=[question, final.to_param(), result],
        )
    )
    second = await op.next_task()
    assert [m["role"] for m in second["messages"]] == ["user", "assistant", "tool", "user"]
    call_id = second["messages"][1]["tool_calls"][0]["id"]
    assert call_id.startswith("call_") and tool_use.id == "toolu_" + call_id.removeprefix("call_")
    assert second["messages"][2]["tool_call_id"] == call_id
    assert second["messages"][2]["content"][0]["text"] == "12°C, clear"
    assert second["conversation_id"] == task["conversation_id"]
    await op.reply(second["id"], "Rain.")
    assert (await follow_up).content[0].text == "Rain."  # type: ignore[union-attr]


async def test_images_reach_the_operator_as_urls(
    woz: Woz, claude: anthropic.AsyncAnthropic
) -> None:
    """base64 image sources become data: URLs; url sources are passed as given."""
    op = await online(woz)
    content: list[Any] = [
        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PIXEL}},
        {"type": "image", "source": {"type": "url", "url": "https://example.com/cat.jpg"}},
        {"type": "text", "text": "Which is nicer?"},
    ]
    call = asyncio.create_task(
        claude.messages.create(
            model="wizard", max_tokens=64, messages=[{"role": "user", "content": content}]
        )
    )
    task = await op.next_task()
    parts = task["messages"][0]["content"]
    assert [p["type"] for p in parts] == ["image", "image", "text"]
    assert parts[0]["url"] == f"data:image/png;base64,{PIXEL}"
    assert parts[1]["url"] == "https://example.com/cat.jpg"
    await op.reply(task["id"], "The cat.")
    await call


async def test_live_persona_streams_typing(woz: Woz, claude: anthropic.AsyncAnthropic) -> None:
    """A live persona's words stream as the operator types them, in one text block."""
    op = await online(woz)
    async with claude.messages.stream(
        model="org/wizard-live", max_tokens=64, messages=[{"role": "user", "content": "hi"}]
    ) as stream:
        events = aiter(stream)
        assert (await anext(events)).type == "message_start"
        task = await op.next_task()
        await op.typing(task["id"], "Hello wor")
        assert (await anext(events)).type == "content_block_start"
        first = await anext(events)
        assert first.type == "content_block_delta" and first.delta == anthropic.types.TextDelta(
            type="text_delta", text="Hello "
        )
        await op.reply(task["id"], "Hello world!")
        rest = [e async for e in events]
        final = await stream.get_final_message()
    assert [e.type for e in rest][-1] == "message_stop"
    assert final.content[0].type == "text" and final.content[0].text == "Hello world!"
    assert len([e for e in rest if e.type == "content_block_start"]) == 0


async def test_raw_stream_names_every_frame_and_pings_while_waiting(woz: Woz) -> None:
    """On the wire: message_start at once, `event: ping` keep-alives, every frame named."""
    op = await online(woz)
    body = {
        "model": "wizard",
        "max_tokens": 32,
        "stream": True,
        "messages": [{"role": "user", "content": "hm"}],
    }
    headers = {"x-api-key": woz.app_key, "anthropic-version": "2023-06-01"}
    async with (
        aiohttp.ClientSession() as session,
        session.post(woz.url + "/v1/messages", json=body, headers=headers) as response,
    ):
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/event-stream")
        assert response.headers["request-id"].startswith("req_")
        first = await asyncio.wait_for(response.content.readuntil(b"\n\n"), 5)
        assert first.startswith(b"event: message_start\ndata: ")
        task = await op.next_task()
        ping = await asyncio.wait_for(response.content.readuntil(b"\n\n"), 5)
        assert ping == b'event: ping\ndata: {"type":"ping"}\n\n'
        await op.reply(task["id"], "Done.")
        rest = await asyncio.wait_for(response.content.read(), 5)
    for frame in [f for f in rest.decode().split("\n\n") if f]:
        name, data = frame.split("\n")
        assert name.startswith("event: ")
        assert json.loads(data.removeprefix("data: "))["type"] == name.removeprefix("event: ")


async def test_the_key_is_accepted_as_bearer_or_x_api_key(woz: Woz) -> None:
    """anthropic 2.x sends the key as a Bearer token; x-api-key (older SDKs) works too."""
    op = await online(woz)
    op.answer_all(lambda task: "ok")
    bearer = client(woz)
    auth_token = client(woz, api_key=None, auth_token=woz.app_key)
    x_api_key = client(
        woz, default_headers={"Authorization": anthropic.Omit(), "X-Api-Key": woz.app_key}
    )
    assert bearer.auth_headers == {"Authorization": f"Bearer {woz.app_key}"}
    for sdk in (bearer, auth_token, x_api_key):
        async with sdk:
            response = await sdk.messages.with_raw_response.create(
                model="wizard", max_tokens=8, messages=[{"role": "user", "content": "hi"}]
            )
            sent = response.http_request.headers
            assert ("x-api-key" in sent) == (sdk is x_api_key)
            assert ("authorization" in sent) == (sdk is not x_api_key)
            assert (await response.parse()).content[0].text == "ok"  # type: ignore[union-attr]


async def test_bad_key_is_an_authentication_error(woz: Woz) -> None:
    """A wrong key raises the SDK's AuthenticationError with Anthropic's error body."""
    async with client(woz, api_key="nope") as bad:
        with pytest.raises(anthropic.AuthenticationError) as caught:
            await bad.messages.create(
                model="wizard", max_tokens=8, messages=[{"role": "user", "content": "hi"}]
            )
    body: Any = caught.value.body
    assert body["type"] == "error" and body["error"]["type"] == "authentication_error"
    assert caught.value.request_id and caught.value.request_id.startswith("req_")


async def test_no_operator_online_is_529_overloaded(claude: anthropic.AsyncAnthropic) -> None:
    """With nobody online the API answers 529 overloaded_error at once, with Retry-After."""
    with pytest.raises(anthropic.OverloadedError) as caught:
        await claude.messages.create(
            model="wizard", max_tokens=8, messages=[{"role": "user", "content": "anyone?"}]
        )
    assert caught.value.status_code == 529
    assert caught.value.response.headers["retry-after"] == "5"
    assert caught.value.body["error"]["type"] == "overloaded_error"  # type: ignore[index]


async def test_missing_max_tokens_is_an_invalid_request(woz: Woz) -> None:
    """max_tokens is required, as at Anthropic: a 400 invalid_request_error naming it."""
    body = {"model": "wizard", "messages": [{"role": "user", "content": "hi"}]}
    headers = {"x-api-key": woz.app_key, "anthropic-version": "2023-06-01"}
    async with (
        aiohttp.ClientSession() as session,
        session.post(woz.url + "/v1/messages", json=body, headers=headers) as response,
    ):
        assert response.status == 400
        assert await response.json() == {
            "type": "error",
            "error": {"type": "invalid_request_error", "message": "'max_tokens' is required."},
        }


async def test_unknown_model_and_bad_blocks_are_client_errors(
    claude: anthropic.AsyncAnthropic,
) -> None:
    """A model that is not a persona is a NotFoundError; an unknown block type a BadRequest."""
    with pytest.raises(anthropic.NotFoundError):
        await claude.messages.create(
            model="claude-x", max_tokens=8, messages=[{"role": "user", "content": "hi"}]
        )
    with pytest.raises(anthropic.BadRequestError, match=r"messages\[0\]\.content\[0\]\.type"):
        await claude.messages.create(
            model="wizard",
            max_tokens=8,
            messages=[{"role": "user", "content": [HOLOGRAM]}],
        )


@pytest.mark.parametrize("study_toml", [ERROR], indirect=True)
async def test_timeout_mid_stream_is_an_error_event(
    woz: Woz, claude: anthropic.AsyncAnthropic
) -> None:
    """An error after the stream began arrives as `event: error`, raised by the SDK."""
    await online(woz)
    with pytest.raises(anthropic.APIStatusError) as caught:
        await streamed(claude, [{"role": "user", "content": "anyone?"}])
    assert caught.value.body == {
        "type": "error",
        "error": {"type": "timeout_error", "message": "No operator answered in time."},
    }


async def test_count_tokens_matches_the_usage_of_the_same_request(
    woz: Woz, claude: anthropic.AsyncAnthropic
) -> None:
    """count_tokens needs no operator and agrees with what the message's usage reports."""
    messages: list[MessageParam] = [{"role": "user", "content": "How many tokens is this?"}]
    counted = await claude.messages.count_tokens(
        model="wizard", system="Be brief.", messages=messages
    )
    op = await online(woz)
    call = say(claude, "How many tokens is this?", system="Be brief.")
    task = await op.next_task()
    await op.reply(task["id"], "A few.")
    assert counted.input_tokens == (await call).usage.input_tokens > 0


async def test_count_tokens_refuses_what_messages_refuses(
    claude: anthropic.AsyncAnthropic,
) -> None:
    with pytest.raises(anthropic.NotFoundError) as unknown:
        await claude.messages.count_tokens(
            model="no-such-model", messages=[{"role": "user", "content": "Hi"}]
        )
    assert "no-such-model" in unknown.value.message
    with pytest.raises(anthropic.BadRequestError) as empty:
        await claude.messages.count_tokens(model="wizard", messages=[])
    assert "messages" in empty.value.message
