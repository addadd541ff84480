"""A message carrying too much text is a 400 in the caller's dialect, naming the message."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import anthropic
import openai
import pytest

from tests.conftest import Woz
from tests.integration.page_client import PAGE_STUDY_TOML, page_client
from woz.config import Settings

LIMIT = 4096
TOO_LONG = "x" * (LIMIT + 1)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data=tmp_path / "data", max_message_chars=LIMIT, disconnect_poll_s=0.05)


def openai_error(exc: openai.BadRequestError) -> dict[str, Any]:
    body = exc.response.json()
    assert exc.status_code == 400 and body["error"]["type"] == "invalid_request_error"
    error: dict[str, Any] = body["error"]
    return error


def test_the_limit_is_a_setting_with_a_documented_default(monkeypatch: pytest.MonkeyPatch) -> None:
    """256 Ki characters unless WOZ_MAX_MESSAGE_CHARS says otherwise."""
    assert Settings().max_message_chars == 256 * 1024
    monkeypatch.setenv("WOZ_MAX_MESSAGE_CHARS", "5000")
    assert Settings().max_message_chars == 5000


@pytest.mark.parametrize(
    ("message", "param"),
    [
        ({"role": "user", "content": TOO_LONG}, "messages[2].content"),
        ({"role": "user", "content": [{"type": "text", "text": TOO_LONG}]}, "messages[2].content"),
        (
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "call_1",
                        "type": "function",
                        "function": {"name": "f", "arguments": json.dumps({"q": TOO_LONG})},
                    }
                ],
            },
            "messages[2].tool_calls",
        ),
    ],
)
async def test_chat_completions_name_the_message(
    openai_client: openai.AsyncOpenAI, message: dict[str, Any], param: str
) -> None:
    """OpenAI Chat: the error's param is the message's field, its code string_above_max_length."""
    history = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]
    with pytest.raises(openai.BadRequestError) as caught:
        await openai_client.chat.completions.create(
            model="wizard",
            messages=[*history, message],  # type: ignore[list-item]
        )
    error = openai_error(caught.value)
    assert (error["param"], error["code"]) == (param, "string_above_max_length")
    assert f"'{param}' is too long: " in error["message"] and str(LIMIT) in error["message"]


@pytest.mark.parametrize(
    ("request_fields", "param"),
    [
        ({"input": TOO_LONG}, "input"),
        ({"instructions": TOO_LONG, "input": "Hi"}, "instructions"),
        (
            {"input": [{"role": "user", "content": "Hi"}, {"role": "user", "content": TOO_LONG}]},
            "input[1].content",
        ),
        (
            {
                "input": [
                    {"type": "function_call", "call_id": "c1", "name": "f", "arguments": TOO_LONG},
                ]
            },
            "input[0].arguments",
        ),
        (
            {"input": [{"type": "function_call_output", "call_id": "c1", "output": TOO_LONG}]},
            "input[0].output",
        ),
    ],
)
async def test_responses_name_the_item(
    openai_client: openai.AsyncOpenAI, request_fields: dict[str, Any], param: str
) -> None:
    """OpenAI Responses: the error names `input`, `instructions` or the item's field."""
    with pytest.raises(openai.BadRequestError) as caught:
        await openai_client.responses.create(model="wizard", **request_fields)
    error = openai_error(caught.value)
    assert (error["param"], error["code"]) == (param, "string_above_max_length")


@pytest.mark.parametrize(
    ("request_fields", "param"),
    [
        ({"system": TOO_LONG}, "system"),
        ({"messages": [{"role": "user", "content": TOO_LONG}]}, "messages[0].content"),
        (
            {
                "messages": [
                    {"role": "user", "content": "Look this up"},
                    {
                        "role": "assistant",
                        "content": [
                            {"type": "tool_use", "id": "toolu_1", "name": "f"}
                            | {"input": {"q": TOO_LONG}}
                        ],
                    },
                ]
            },
            "messages[1].content",
        ),
    ],
)
async def test_anthropic_messages_name_the_message(
    woz: Woz, request_fields: dict[str, Any], param: str
) -> None:
    """Anthropic Messages: an invalid_request_error whose message names the field."""
    fields = {"messages": [{"role": "user", "content": "Hi"}], **request_fields}
    async with anthropic.AsyncAnthropic(
        base_url=woz.url, api_key=woz.app_key, max_retries=0
    ) as client:
        with pytest.raises(anthropic.BadRequestError) as caught:
            await client.messages.create(model="wizard", max_tokens=100, **fields)
    body = caught.value.response.json()
    assert caught.value.status_code == 400 and body["type"] == "error"
    assert body["error"]["type"] == "invalid_request_error"
    assert body["error"]["message"].startswith(f"'{param}' is too long: ")


@pytest.mark.parametrize("study_toml", [PAGE_STUDY_TOML], indirect=True)
async def test_the_participant_pages_chat_names_the_message(woz: Woz) -> None:
    """The chat page's turn gets the Chat dialect's 400, naming the message."""
    async with page_client(woz) as client:
        await client.join()
        status, [body] = await client.chat(TOO_LONG)
    assert status == 400
    assert (body["error"]["param"], body["error"]["code"]) == (
        "messages[0].content",
        "string_above_max_length",
    )


async def test_text_up_to_the_limit_reaches_the_operator(
    woz: Woz, openai_client: openai.AsyncOpenAI
) -> None:
    """Exactly the limit is accepted; an image does not count towards it."""
    op = await woz.ready_operator()
    pixel = "data:image/png;base64," + "A" * (2 * LIMIT)
    reply = openai_client.chat.completions.create(
        model="wizard",
        messages=[
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "y" * LIMIT},
                    {"type": "image_url", "image_url": {"url": pixel}},
                ],
            }
        ],
    )
    answer = asyncio.create_task(reply)
    task = await op.next_task()
    await op.reply(task["id"], "Noted.")
    assert (await answer).choices[0].message.content == "Noted."
