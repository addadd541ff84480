"""The official openai SDK against a live woz, answered by a scripted operator."""

from __future__ import annotations

import asyncio

import openai
import pytest

from tests.conftest import Woz, ask


async def test_non_streaming_answer_is_the_operators_text(
    woz: Woz, openai_client: openai.AsyncOpenAI
) -> None:
    """A plain create() returns the operator's words in a well-formed completion."""
    op = await woz.ready_operator()
    call = ask(openai_client, "Recommend a scarf")
    task = await op.next_task()
    assert task["messages"][-1]["content"][0]["text"] == "Recommend a scarf"
    ack = await op.reply(task["id"], "Try the cashmere one.")
    assert ack["type"] == "reply.ack"
    completion = await call
    assert completion.id.startswith("chatcmpl-")
    assert completion.choices[0].message.content == "Try the cashmere one."
    assert completion.choices[0].finish_reason == "stop"
    assert completion.usage is not None and completion.usage.completion_tokens > 0


async def test_streaming_joins_to_the_operators_text(
    woz: Woz, openai_client: openai.AsyncOpenAI
) -> None:
    """Deltas join to the reply; role once, one finish_reason, usage chunk last."""
    op = await woz.ready_operator()
    text = "Here is a longer answer, with punctuation; and several words to split."

    async def consume() -> list[openai.types.chat.ChatCompletionChunk]:
        stream = await openai_client.chat.completions.create(
            model="wizard",
            messages=[{"role": "user", "content": "Talk to me"}],
            stream=True,
            stream_options={"include_usage": True},
        )
        return [chunk async for chunk in stream]

    call = asyncio.create_task(consume())
    task = await op.next_task()
    await op.reply(task["id"], text)
    chunks = await call
    deltas = [c.choices[0].delta for c in chunks if c.choices]
    assert "".join(d.content or "" for d in deltas) == text
    assert [d.role for d in deltas if d.role] == ["assistant"]
    finishes = [
        c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason
    ]
    assert finishes == ["stop"]
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    assert (
        chunks[-1].usage.total_tokens
        == chunks[-1].usage.prompt_tokens + chunks[-1].usage.completion_tokens
    )
    assert len({c.id for c in chunks}) == 1 and chunks[0].id.startswith("chatcmpl-")


async def test_record_is_committed_with_provenance(
    woz: Woz, openai_client: openai.AsyncOpenAI
) -> None:
    """The answered task is in the store with produced_by, operator pseudonym and timings."""
    op = await woz.ready_operator()
    call = ask(openai_client, "Hello", user="participant-42")
    task = await op.next_task()
    await op.typing(task["id"], "Hi")
    ack = await op.reply(task["id"], "Hi there")
    await call
    record = await woz.store.get_record(ack["record_id"])
    assert record is not None
    assert record.answer is not None and record.answer.content == "Hi there"
    assert record.produced_by == "human"
    assert record.presented_as == "ai"
    assert record.operator is not None and record.operator.startswith("op_")
    assert record.participant is not None and "participant-42" not in record.participant
    assert record.timings.assigned_at is not None
    assert record.timings.first_keystroke_at is not None
    assert record.timings.answered_at is not None
    assert record.status == "delivered" and record.timings.delivered_at is not None
    assert record.messages[0].text() == "Hello"


async def test_bad_key_is_an_authentication_error(woz: Woz) -> None:
    """A wrong key raises the SDK's AuthenticationError with the request id."""
    async with woz.openai(api_key="nope", max_retries=0) as bad:
        with pytest.raises(openai.AuthenticationError) as caught:
            await bad.chat.completions.create(
                model="wizard", messages=[{"role": "user", "content": "hi"}]
            )
    assert caught.value.code == "invalid_api_key"
    assert caught.value.request_id and caught.value.request_id.startswith("req_")


async def test_malformed_body_names_the_param(openai_client: openai.AsyncOpenAI) -> None:
    """A message without a role is a BadRequestError naming the field."""
    with pytest.raises(openai.BadRequestError) as caught:
        await openai_client.chat.completions.create(
            model="wizard",
            messages=[{"content": "no role"}],  # type: ignore[list-item, typeddict-item]
        )
    assert caught.value.param == "messages[0].role"


async def test_n_above_one_is_refused(openai_client: openai.AsyncOpenAI) -> None:
    """One human writes one answer: n=2 is a 400 on the 'n' param."""
    with pytest.raises(openai.BadRequestError) as caught:
        await openai_client.chat.completions.create(
            model="wizard", messages=[{"role": "user", "content": "hi"}], n=2
        )
    assert caught.value.param == "n"


async def test_unknown_model_is_not_found(openai_client: openai.AsyncOpenAI) -> None:
    """A model that is not a persona raises NotFoundError with model_not_found."""
    with pytest.raises(openai.NotFoundError) as caught:
        await openai_client.chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": "hi"}]
        )
    assert caught.value.code == "model_not_found"


async def test_no_operator_online_is_503_with_retry_after(
    openai_client: openai.AsyncOpenAI,
) -> None:
    """With nobody online the API answers 503 at once, with Retry-After."""
    with pytest.raises(openai.InternalServerError) as caught:
        await openai_client.chat.completions.create(
            model="wizard", messages=[{"role": "user", "content": "anyone?"}]
        )
    assert caught.value.status_code == 503
    assert caught.value.response.headers["retry-after"] == "5"
    assert caught.value.code == "no_operator_online"


async def test_models_list_and_retrieve_with_a_slash(openai_client: openai.AsyncOpenAI) -> None:
    """Personas are the models; an id containing '/' can be retrieved."""
    page = await openai_client.models.list()
    assert [m.id for m in page.data] == ["wizard", "org/wizard-live"]
    model = await openai_client.models.retrieve("org/wizard-live")
    assert model.id == "org/wizard-live" and model.owned_by == "woz"
    with pytest.raises(openai.NotFoundError):
        await openai_client.models.retrieve("missing")


async def test_unknown_fields_are_ignored(woz: Woz, openai_client: openai.AsyncOpenAI) -> None:
    """extra_body fields a real API might accept do not break the request."""
    op = await woz.ready_operator()
    call = ask(
        openai_client, "hi", temperature=0.2, extra_body={"some_vendor_flag": {"nested": True}}
    )
    task = await op.next_task()
    await op.reply(task["id"], "ok")
    assert (await call).choices[0].message.content == "ok"


async def test_large_image_bodies_are_accepted_and_oversized_refused(
    woz: Woz, openai_client: openai.AsyncOpenAI
) -> None:
    """A 21 MiB image reaches the operator; past the 32 MiB limit the SDK gets a 413."""
    op = await woz.ready_operator()
    image = "data:image/png;base64," + "A" * (21 * 1024 * 1024)
    content = [
        {"type": "text", "text": "What is this?"},
        {"type": "image_url", "image_url": {"url": image}},
    ]
    call = asyncio.create_task(
        openai_client.chat.completions.create(
            model="wizard",
            messages=[{"role": "user", "content": content}],  # type: ignore[misc, list-item]
        )
    )
    task = await op.next_task()
    assert task["messages"][0]["content"][1] == {"type": "image", "url": image}
    await op.reply(task["id"], "A very large picture.")
    assert (await call).choices[0].message.content == "A very large picture."
    content[1] = {"type": "image_url", "image_url": {"url": image * 2}}
    with pytest.raises(openai.APIStatusError) as caught:
        await openai_client.chat.completions.create(
            model="wizard",
            messages=[{"role": "user", "content": content}],  # type: ignore[misc, list-item]
        )
    assert caught.value.status_code == 413
    assert caught.value.code == "request_too_large"
