"""The official openai SDK against a live woz, answered by a scripted operator."""

from __future__ import annotations

import asyncio

import openai

from tests.conftest import Woz


async def test_non_streaming_answer_is_the_operators_text(
    woz: Woz, openai_client: openai.AsyncOpenAI
) -> None:
    """A plain create() returns the operator's words in a well-formed completion."""
    op = await woz.make_operator()
    await op.ready()
    call = asyncio.create_task(
        openai_client.chat.completions.create(
            model="wizard", messages=[{"role": "user", "content": "Recommend a scarf"}]
        )
    )
    task = await op.next_task()
    assert task["messages"][-1]["content"][0]["text"] == "Recommend a scarf"
    ack = await op.reply(task["id"], "Try the cashmere one.")
    assert ack["type"] == "reply.ack"
    completion = await call
    assert completion.id.startswith("chatcmpl-")
    assert completion.choices[0].message.content == "Try the cashmere one."
    assert completion.choices[0].finish_reason == "stop"
    assert completion.usage is not None and completion.usage.completion_tokens > 0
