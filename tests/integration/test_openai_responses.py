"""The official openai SDK's Responses API against a live woz, answered by a scripted operator."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import openai
import pytest
from openai.types.responses import Response
from pydantic import BaseModel

from tests.conftest import Woz
from woz.api.openai.responses_stored import BACKGROUND
from woz.testing import ScriptedOperator

ERROR = {"routing.answer_timeout_s": "0.5", "routing.on_timeout": '"error"'}
PACED = {"pacing.tokens_per_second": "1000"}  # fast, but in many pieces
WEATHER: Any = {
    "type": "function",
    "name": "get_weather",
    "description": "The weather in a city",
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
        "additionalProperties": False,
    },
    "strict": True,
}


class Pick(BaseModel):
    product: str
    reason: str


@pytest.fixture
async def client(woz: Woz) -> AsyncIterator[openai.AsyncOpenAI]:
    """The official SDK pointed at woz, validating every response strictly."""
    async with openai.AsyncOpenAI(
        base_url=woz.base_url,
        api_key=woz.app_key,
        max_retries=0,
        _strict_response_validation=True,
    ) as c:
        yield c


async def online(woz: Woz) -> ScriptedOperator:
    """An operator the dispatcher already counts as ready (seen in its queue broadcast)."""
    op = await woz.make_operator()
    await op.ready()
    await op.expect("queue", operators_online=1)
    return op


def create(client: openai.AsyncOpenAI, **kwargs: Any) -> asyncio.Task[Response]:
    """Start a non-streaming `responses.create`, in the background."""
    kwargs.setdefault("model", "wizard")
    return asyncio.create_task(client.responses.create(**kwargs))


async def streamed(client: openai.AsyncOpenAI, **kwargs: Any) -> tuple[list[Any], Response]:
    """Every event of a `responses.stream()` and the SDK's final response."""
    kwargs.setdefault("model", "wizard")
    async with client.responses.stream(**kwargs) as stream:
        events = [event async for event in stream]
        return events, await stream.get_final_response()


async def test_create_returns_the_operators_text(woz: Woz, client: openai.AsyncOpenAI) -> None:
    """instructions and input reach the operator; the reply is one completed message item."""
    op = await online(woz)
    call = create(client, input="Recommend a scarf", instructions="Be brief.", user="p-9")
    task = await op.next_task()
    assert task["api"] == "openai.responses"
    assert [m["role"] for m in task["messages"]] == ["system", "user"]
    assert task["messages"][1]["content"][0]["text"] == "Recommend a scarf"
    ack = await op.reply(task["id"], "Try the cashmere one.")
    response = await call
    assert response.id.startswith("resp_") and response.object == "response"
    assert response.status == "completed" and response.instructions == "Be brief."
    assert response.output_text == "Try the cashmere one."
    [item] = response.output
    assert item.type == "message" and item.id.startswith("msg_") and item.status == "completed"
    assert response.usage is not None
    assert response.usage.total_tokens == response.usage.input_tokens + response.usage.output_tokens
    record = await woz.store.get_record(ack["record_id"])
    assert record is not None and record.api == "openai.responses"
    assert record.status == "delivered" and record.participant is not None


async def test_stream_sends_events_in_order(woz: Woz, client: openai.AsyncOpenAI) -> None:
    """created, in_progress, one message item's events, completed; numbered from 0."""
    op = await online(woz)
    text = "Here is a longer answer, with punctuation; and several words."
    call = asyncio.create_task(streamed(client, input=[{"role": "user", "content": "Talk"}]))
    task = await op.next_task()
    await op.reply(task["id"], text)
    events, final = await call
    kinds = [e.type for e in events]
    assert kinds[:4] == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
    ]
    assert set(kinds[4:-4]) == {"response.output_text.delta"}
    assert kinds[-4:] == [
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ]
    assert [e.sequence_number for e in events] == list(range(len(events)))
    deltas = [e.delta for e in events if e.type == "response.output_text.delta"]
    assert "".join(deltas) == text
    assert final.output_text == text and final.status == "completed"
    assert final.id == events[0].response.id
    assert final.usage is not None and final.usage.output_tokens > 0


async def test_function_call_and_its_output_continue_by_previous_response_id(
    woz: Woz, client: openai.AsyncOpenAI
) -> None:
    """A function_call item; its output sent with previous_response_id expands the history."""
    op = await online(woz)
    call = create(client, input="Weather in Oslo?", instructions="Use tools.", tools=[WEATHER])
    task = await op.next_task()
    assert task["tools"][0]["name"] == "get_weather"
    await op.reply(task["id"], tool_calls=[{"name": "get_weather", "arguments": '{"city":"Oslo"}'}])
    first = await call
    [item] = first.output
    assert item.type == "function_call" and item.id and item.id.startswith("fc_")
    assert item.call_id.startswith("call_") and item.name == "get_weather"
    assert json.loads(item.arguments) == {"city": "Oslo"}

    follow_up = create(
        client,
        previous_response_id=first.id,
        input=[{"type": "function_call_output", "call_id": item.call_id, "output": "12°C"}],
        tools=[WEATHER],
    )
    second = await op.next_task()
    roles = [m["role"] for m in second["messages"]]
    assert roles == ["user", "assistant", "tool"]  # the instructions are not carried over
    assert second["messages"][1]["tool_calls"][0]["id"] == item.call_id
    assert second["messages"][2]["tool_call_id"] == item.call_id
    assert second["messages"][2]["content"][0]["text"] == "12°C"
    assert second["conversation_id"] == task["conversation_id"]
    await op.reply(second["id"], "12°C and clear.")
    response = await follow_up
    assert response.previous_response_id == first.id
    assert response.output_text == "12°C and clear."


@pytest.mark.parametrize("study_toml", [PACED], indirect=True)
async def test_streamed_text_and_function_call(woz: Woz, client: openai.AsyncOpenAI) -> None:
    """Text, then a function-call item with argument deltas; output indexes in order."""
    op = await online(woz)
    call = asyncio.create_task(
        streamed(client, input="Weather in Oslo?", tools=[WEATHER], tool_choice="required")
    )
    task = await op.next_task()
    assert task["tool_choice"]["mode"] == "required"
    await op.reply(
        task["id"],
        "Checking.",
        tool_calls=[{"name": "get_weather", "arguments": '{"city":"Oslo"}'}],
    )
    events, final = await call
    added = [e for e in events if e.type == "response.output_item.added"]
    assert [(e.output_index, e.item.type) for e in added] == [
        (0, "message"),
        (1, "function_call"),
    ]
    assert added[1].item.arguments == ""
    pieces = [e.delta for e in events if e.type == "response.function_call_arguments.delta"]
    assert len(pieces) > 1 and "".join(pieces) == '{"city":"Oslo"}'
    assert [e.type for e in events][-3:] == [
        "response.function_call_arguments.done",
        "response.output_item.done",
        "response.completed",
    ]
    message, item = final.output
    assert message.type == "message" and final.output_text == "Checking."
    assert item.type == "function_call" and json.loads(item.arguments) == {"city": "Oslo"}
    assert item.id == added[1].item.id


async def test_json_schema_format_is_enforced_and_parsed(
    woz: Woz, client: openai.AsyncOpenAI
) -> None:
    """text.format json_schema: a reply breaking the schema is refused; a valid one parses."""
    op = await online(woz)
    call = asyncio.create_task(
        client.responses.parse(model="wizard", input="Pick a gift", text_format=Pick)
    )
    task = await op.next_task()
    assert task["response_format"]["type"] == "json_schema"
    assert task["response_format"]["name"] == "Pick"
    rejected = await op.reply(task["id"], '{"product": "scarf"}')
    assert rejected["type"] == "reply.rejected"
    assert rejected["error"]["code"] == "schema_violation"
    await op.reply(task["id"], '{"product": "scarf", "reason": "warm"}')
    response = await call
    assert response.output_parsed == Pick(product="scarf", reason="warm")
    assert response.text is not None and response.text.format is not None
    assert response.text.format.type == "json_schema"


async def test_unknown_previous_response_is_not_found(client: openai.AsyncOpenAI) -> None:
    """A previous_response_id woz never gave out is a 404 naming the param."""
    with pytest.raises(openai.NotFoundError) as caught:
        await client.responses.create(
            model="wizard", input="hi", previous_response_id="resp_nonexistent"
        )
    assert caught.value.param == "previous_response_id"
    assert caught.value.code == "previous_response_not_found"


async def test_store_false_is_not_kept(woz: Woz, client: openai.AsyncOpenAI) -> None:
    """With store: false a response can be neither continued nor retrieved."""
    op = await online(woz)
    call = create(client, input="hi", store=False)
    task = await op.next_task()
    await op.reply(task["id"], "hello")
    response = await call
    assert response.store is False
    with pytest.raises(openai.NotFoundError):
        await client.responses.create(
            model="wizard", input="and?", previous_response_id=response.id
        )
    with pytest.raises(openai.NotFoundError):
        await client.responses.retrieve(response.id)


async def test_retrieve_returns_the_response_as_sent_less_the_user(
    woz: Woz, client: openai.AsyncOpenAI
) -> None:
    """`responses.retrieve` gives back the object the app got; the participant's id is not kept."""
    op = await online(woz)
    call = create(client, input="Recommend a scarf", instructions="Be brief.", user="p-9")
    task = await op.next_task()
    await op.reply(task["id"], "Try the cashmere one.")
    sent = await call
    assert sent.user == "p-9"
    retrieved = await client.responses.retrieve(sent.id)
    assert retrieved.user is None
    assert retrieved.model_dump(exclude={"user"}) == sent.model_dump(exclude={"user"})
    with pytest.raises(openai.BadRequestError) as caught:
        await client.responses.retrieve(sent.id, stream=True)
    assert caught.value.param == "stream"


@pytest.mark.parametrize("study_toml", [PACED], indirect=True)
async def test_a_streamed_response_is_retrieved_with_its_item_ids(
    woz: Woz, client: openai.AsyncOpenAI
) -> None:
    """The stored object is the one `response.completed` carried: same items, same ids."""
    op = await online(woz)
    call = asyncio.create_task(streamed(client, input="Weather in Oslo?", tools=[WEATHER]))
    task = await op.next_task()
    await op.reply(
        task["id"],
        "Checking.",
        tool_calls=[{"name": "get_weather", "arguments": '{"city":"Oslo"}'}],
    )
    events, final = await call
    added_ids = [e.item.id for e in events if e.type == "response.output_item.added"]
    retrieved = await client.responses.retrieve(final.id)
    assert [item.id for item in retrieved.output] == added_ids
    # The streaming helper's final response adds what it parsed; the rest is identical.
    parsed = {"output": {0: {"content": {0: {"parsed"}}}, 1: {"parsed_arguments"}}}
    assert retrieved.model_dump() == final.model_dump(exclude=parsed)


async def test_delete_forgets_the_response_but_not_the_record(
    woz: Woz, client: openai.AsyncOpenAI
) -> None:
    """After `responses.delete` the id is unknown to retrieve and follow-ups; the record stays."""
    op = await online(woz)
    call = create(client, input="hi")
    task = await op.next_task()
    ack = await op.reply(task["id"], "hello")
    response = await call
    assert await client.responses.delete(response.id) is None
    with pytest.raises(openai.NotFoundError) as caught:
        await client.responses.retrieve(response.id)
    assert caught.value.message.endswith(f"Response with id '{response.id}' not found.")
    with pytest.raises(openai.NotFoundError):
        await client.responses.create(
            model="wizard", input="and?", previous_response_id=response.id
        )
    with pytest.raises(openai.NotFoundError):
        await client.responses.delete(response.id)
    record = await woz.store.get_record(ack["record_id"])
    assert record is not None and record.status == "delivered"


async def test_no_operator_online_is_503(client: openai.AsyncOpenAI) -> None:
    """With nobody online the API answers 503 at once, in OpenAI's error shape."""
    with pytest.raises(openai.InternalServerError) as caught:
        await client.responses.create(model="wizard", input="anyone?")
    assert caught.value.status_code == 503 and caught.value.code == "no_operator_online"


async def test_hosted_tools_are_refused(client: openai.AsyncOpenAI) -> None:
    """A human cannot run OpenAI's hosted tools: a 400 on the tool's type."""
    with pytest.raises(openai.BadRequestError) as caught:
        await client.responses.create(
            model="wizard", input="news?", tools=[{"type": "web_search_preview"}]
        )
    assert caught.value.param == "tools[0].type"


@pytest.mark.parametrize("study_toml", [ERROR], indirect=True)
async def test_timeout_mid_stream_raises_api_error(woz: Woz, client: openai.AsyncOpenAI) -> None:
    """An error after the stream began is an `error` event the SDK raises as APIError."""
    await online(woz)
    with pytest.raises(openai.APIError, match="No operator answered in time"):
        await streamed(client, input="anyone?")


async def test_raw_stream_names_every_frame(woz: Woz) -> None:
    """On the wire: response.created at once, comment keep-alives, event names = types."""
    op = await online(woz)
    body = {"model": "wizard", "stream": True, "input": "hm"}
    headers = {"Authorization": f"Bearer {woz.app_key}"}
    async with (
        aiohttp.ClientSession() as session,
        session.post(woz.base_url + "/responses", json=body, headers=headers) as response,
    ):
        assert response.status == 200
        first = await asyncio.wait_for(response.content.readuntil(b"\n\n"), 5)
        assert first.startswith(b"event: response.created\ndata: ")
        task = await op.next_task()
        await asyncio.wait_for(response.content.readuntil(b": keep-alive\n\n"), 5)
        await op.reply(task["id"], "Done.")
        rest = await asyncio.wait_for(response.content.read(), 5)
    frames = [f for f in rest.decode().split("\n\n") if f and not f.startswith(":")]
    for frame in frames:
        name, data = frame.split("\n")
        assert json.loads(data.removeprefix("data: "))["type"] == name.removeprefix("event: ")
    assert frames[-1].startswith("event: response.completed\n")


async def test_live_persona_streams_typing(woz: Woz, client: openai.AsyncOpenAI) -> None:
    """A live persona's words stream as the operator types them, into one message item."""
    op = await online(woz)
    async with client.responses.stream(model="org/wizard-live", input="hi") as stream:
        events = aiter(stream)
        assert (await anext(events)).type == "response.created"
        assert (await anext(events)).type == "response.in_progress"
        task = await op.next_task()
        await op.typing(task["id"], "Hello wor")
        assert (await anext(events)).type == "response.output_item.added"
        assert (await anext(events)).type == "response.content_part.added"
        first = await anext(events)
        assert first.type == "response.output_text.delta" and first.delta == "Hello "
        await op.reply(task["id"], "Hello world!")
        rest = [e async for e in events]
        final = await stream.get_final_response()
    assert "".join(e.delta for e in rest if e.type == "response.output_text.delta") == "world!"
    assert final.output_text == "Hello world!"
    assert "response.output_item.added" not in [e.type for e in rest]


async def finished(woz: Woz, response_id: str) -> None:
    """Wait until woz has stored how a background response ended."""
    job = woz.server.app[BACKGROUND].get(response_id)
    if job is not None:
        async with asyncio.timeout(5):
            await asyncio.wait([job.runner])


async def test_a_background_response_is_queued_then_completed(
    woz: Woz, client: openai.AsyncOpenAI
) -> None:
    """background: true answers at once, queued; polling finds it in progress once an
    operator has it, then completed, and the conversation continues."""
    op = await online(woz)  # capacity 1
    queued = await client.responses.create(model="wizard", input="Take your time", background=True)
    assert queued.status == "queued" and queued.background is True and queued.output == []
    task = await op.next_task()
    assert (await client.responses.retrieve(queued.id)).status == "in_progress"
    behind = await client.responses.create(model="wizard", input="Me too", background=True)
    assert (await client.responses.retrieve(behind.id)).status == "queued"  # the operator is busy
    ack = await op.reply(task["id"], "Done thinking.")
    await finished(woz, queued.id)
    done = await client.responses.retrieve(queued.id)
    assert done.status == "completed" and done.background is True
    assert done.output_text == "Done thinking." and done.usage is not None
    record = await woz.store.get_record(ack["record_id"])
    assert record is not None and record.status == "delivered"

    next_task = await op.next_task()
    assert (await client.responses.retrieve(behind.id)).status == "in_progress"
    await op.reply(next_task["id"], "You too.")
    await finished(woz, behind.id)
    assert (await client.responses.retrieve(behind.id)).output_text == "You too."

    follow_up = create(client, previous_response_id=queued.id, input="And then?")
    second = await op.next_task()
    assert [m["role"] for m in second["messages"]] == ["user", "assistant", "user"]
    await op.reply(second["id"], "That is all.")
    assert (await follow_up).output_text == "That is all."


async def test_cancelling_a_background_response_takes_the_task_back(
    woz: Woz, client: openai.AsyncOpenAI
) -> None:
    """cancel revokes the task from its operator; the response says cancelled, once."""
    op = await online(woz)
    queued = await client.responses.create(model="wizard", input="Never mind", background=True)
    task = await op.next_task()
    cancelled = await client.responses.cancel(queued.id)
    assert cancelled.id == queued.id and cancelled.status == "cancelled"
    revoked = await op.expect("task.revoked", task_id=task["id"])
    assert revoked["reason"] == "client_gone"
    records = await woz.store.list_records(woz.study.id)
    assert [r.status for r in records] == ["client_gone"]
    assert (await client.responses.retrieve(queued.id)).status == "cancelled"
    with pytest.raises(openai.BadRequestError) as caught:
        await client.responses.cancel(queued.id)
    assert caught.value.code == "response_not_cancellable"
    with pytest.raises(openai.BadRequestError) as caught:
        await client.responses.create(model="wizard", input="x", previous_response_id=queued.id)
    assert caught.value.code == "previous_response_not_completed"
    with pytest.raises(openai.NotFoundError):
        await client.responses.cancel("resp_unknown")


@pytest.mark.parametrize("study_toml", [ERROR], indirect=True)
async def test_a_background_response_nobody_answers_fails(
    woz: Woz, client: openai.AsyncOpenAI
) -> None:
    """Past the answer timeout the background response is failed, with an error."""
    op = await online(woz)
    queued = await client.responses.create(model="wizard", input="Hello?", background=True)
    await op.next_task()
    await finished(woz, queued.id)
    failed = await client.responses.retrieve(queued.id)
    assert failed.status == "failed"
    assert failed.error is not None and failed.error.code == "server_error"


@pytest.mark.parametrize(
    ("option", "param"), [({"store": False}, "store"), ({"stream": True}, "stream")]
)
async def test_a_background_response_must_be_stored_and_not_streamed(
    woz: Woz, client: openai.AsyncOpenAI, option: dict[str, Any], param: str
) -> None:
    """background with store: false, or with stream, is a 400 naming the field."""
    await online(woz)
    with pytest.raises(openai.BadRequestError) as caught:
        await client.responses.create(model="wizard", input="x", background=True, **option)
    assert caught.value.param == param


async def test_input_items_list_the_conversation_a_response_was_given(
    woz: Woz, client: openai.AsyncOpenAI
) -> None:
    """input_items: history and new input (no instructions), newest first unless asked,
    paginated by the SDK with stable ids."""
    op = await online(woz)
    question = [
        {
            "role": "user",
            "content": [
                {"type": "input_text", "text": "Weather where this is?"},
                {"type": "input_image", "image_url": "https://example.com/oslo.png"},
            ],
        }
    ]
    call = create(client, input=question, instructions="Use tools.", tools=[WEATHER])
    task = await op.next_task()
    await op.reply(task["id"], tool_calls=[{"name": "get_weather", "arguments": '{"city":"Oslo"}'}])
    first = await call
    [function_call] = first.output
    assert function_call.type == "function_call"
    follow_up = create(
        client,
        previous_response_id=first.id,
        input=[{"type": "function_call_output", "call_id": function_call.call_id, "output": "9°C"}],
        tools=[WEATHER],
    )
    await op.reply((await op.next_task())["id"], "9°C and clear.")
    second = await follow_up

    listed = await client.responses.input_items.list(second.id, order="asc")
    kinds = [item.type for item in listed.data]
    assert kinds == ["message", "function_call", "function_call_output"]
    message, called, output = listed.data
    assert message.type == "message" and message.role == "user"
    assert [part.type for part in message.content] == ["input_text", "input_image"]
    assert message.content[0].text == "Weather where this is?"  # type: ignore[union-attr]
    assert message.content[1].image_url == "https://example.com/oslo.png"  # type: ignore[union-attr]
    assert called.type == "function_call" and called.call_id == function_call.call_id
    assert called.name == "get_weather" and called.arguments == '{"city":"Oslo"}'
    assert output.type == "function_call_output" and output.output == "9°C"
    assert listed.has_more is False and listed.first_id == message.id

    newest_first = [item.id async for item in client.responses.input_items.list(second.id, limit=1)]
    assert newest_first == [output.id, called.id, message.id]  # three pages of one
    again = await client.responses.input_items.list(second.id, order="asc")
    assert [item.id for item in again.data] == [message.id, called.id, output.id]
    [only] = (await client.responses.input_items.list(first.id)).data
    assert only.type == "message" and only.id == message.id  # the same item, the same id

    with pytest.raises(openai.NotFoundError):
        await client.responses.input_items.list("resp_unknown")
    for bad in ({"limit": 0}, {"limit": 101}, {"order": "sideways"}, {"after": "msg_unknown"}):
        with pytest.raises(openai.BadRequestError) as caught:
            await client.responses.input_items.list(second.id, **bad)  # type: ignore[arg-type]
        assert caught.value.param == next(iter(bad))


async def test_input_items_of_a_background_response_still_waiting(
    woz: Woz, client: openai.AsyncOpenAI
) -> None:
    op = await online(woz)
    queued = await client.responses.create(model="wizard", input="Take your time", background=True)
    task = await op.next_task()
    [item] = (await client.responses.input_items.list(queued.id)).data
    assert item.type == "message" and item.content[0].text == "Take your time"  # type: ignore[union-attr]
    with pytest.raises(openai.BadRequestError) as caught:
        await client.responses.create(model="wizard", input="x", previous_response_id=queued.id)
    assert caught.value.code == "previous_response_not_completed"
    await op.reply(task["id"], "Done.")
    await finished(woz, queued.id)
    [same] = (await client.responses.input_items.list(queued.id)).data
    assert same.id == item.id
