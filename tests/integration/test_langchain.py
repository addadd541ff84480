"""LangChain's `ChatOpenAI` against a live woz: invoke, stream and structured output.

The synchronous `invoke` and `stream` run in a worker thread, as in an app, so the
server and the scripted operator keep the event loop.
"""

from __future__ import annotations

import asyncio
import json

from langchain_openai import ChatOpenAI
from pydantic import BaseModel

from tests.conftest import Woz


class Gift(BaseModel):
    """A gift suggestion."""

    product: str
    brand: str
    reason: str


def chat(woz: Woz) -> ChatOpenAI:
    return ChatOpenAI(
        base_url=woz.base_url, api_key=woz.app_key, model="wizard", max_retries=0, timeout=30
    )


async def test_invoke_returns_the_operators_words(woz: Woz) -> None:
    """`invoke` gets an AIMessage with the reply and token usage."""
    op = await woz.online_operator()
    call = asyncio.create_task(asyncio.to_thread(chat(woz).invoke, "Recommend a scarf"))
    task = await op.next_task()
    assert task["messages"][-1]["content"][0]["text"] == "Recommend a scarf"
    await op.reply(task["id"], "The cashmere one.")
    message = await call
    assert message.content == "The cashmere one."
    assert message.usage_metadata is not None and message.usage_metadata["output_tokens"] > 0


async def test_stream_yields_chunks_that_join_to_the_reply(woz: Woz) -> None:
    """`stream` yields several chunks whose text is the reply."""
    op = await woz.online_operator()
    llm = chat(woz)
    call = asyncio.create_task(asyncio.to_thread(lambda: list(llm.stream("Talk to me"))))
    text = "A longer answer, streamed in several pieces to the app."
    await op.reply((await op.next_task())["id"], text)
    chunks = await call
    assert len(chunks) > 2
    assert "".join(str(chunk.content) for chunk in chunks) == text


async def test_structured_output_is_the_validated_model(woz: Woz) -> None:
    """`with_structured_output(Gift)` sends a JSON schema; the operator's JSON becomes a Gift."""
    op = await woz.online_operator()
    structured = chat(woz).with_structured_output(Gift)
    call = asyncio.create_task(structured.ainvoke("A gift for my sister?"))
    task = await op.next_task()
    assert task["response_format"]["type"] == "json_schema"
    assert set(task["response_format"]["json_schema"]["properties"]) == {
        "product",
        "brand",
        "reason",
    }
    rejected = await op.reply(task["id"], json.dumps({"product": "Scarf"}))
    assert rejected["type"] == "reply.rejected"
    gift = {"product": "Scarf", "brand": "Loro Piana", "reason": "Soft and timeless."}
    await op.reply(task["id"], json.dumps(gift))
    assert await call == Gift(**gift)
