"""Malformed request bodies, one by one: each is a 400 in the caller's dialect naming the field.

Every example here once made woz answer 500 (or crash an operator's reply); the
fuzzing in `test_fuzz_bodies` found most of them. One live woz serves the module.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest

from tests.conftest import STUDY_TOML, Woz, ask
from tests.integration.threaded_woz import threaded_woz

TEXT = {"role": "user", "content": "Hi"}
SCHEMA_FORMAT = {"type": "json_schema", "json_schema": {"name": "answer", "schema": {"type": 5}}}


def chat(**fields: Any) -> dict[str, Any]:
    return {"model": "wizard", "messages": [TEXT], **fields}


def user_parts(*parts: Any) -> list[dict[str, Any]]:
    return [{"role": "user", "content": list(parts)}]


def anthropic(**fields: Any) -> dict[str, Any]:
    return {"model": "wizard", "max_tokens": 10, "messages": [TEXT], **fields}


@pytest.fixture(scope="module")
def live() -> Iterator[tuple[Woz, httpx.Client]]:
    with (
        threaded_woz(STUDY_TOML) as (_, woz),
        httpx.Client(base_url=woz.url, timeout=30) as http,
    ):
        http.headers["Authorization"] = f"Bearer {woz.app_key}"
        yield woz, http


OPENAI_CASES = [
    # /v1/responses
    (
        "/v1/responses",
        {"model": "wizard", "input": [{"type": "message", "role": "user", "content": 5}]},
        "input[0].content",
    ),
    ("/v1/responses", {"model": "wizard", "input": [42]}, "input[0]"),
    ("/v1/responses", {"model": "wizard", "input": 42}, "input"),
    (
        "/v1/responses",
        {"model": "wizard", "input": [{"type": "function_call_output", "output": {}}]},
        "input[0].call_id",
    ),
    (
        "/v1/responses",
        {
            "model": "wizard",
            "input": [{"type": "function_call_output", "call_id": "c", "output": {}}],
        },
        "input[0].output",
    ),
    ("/v1/responses", {"model": "wizard", "input": "Hi", "tools": "x"}, "tools"),
    (
        "/v1/responses",
        {"model": "wizard", "input": [{"role": "user", "content": [5]}]},
        "input[0].content[0]",
    ),
    (
        "/v1/responses",
        {
            "model": "wizard",
            "input": [
                {
                    "role": "user",
                    "content": [{"type": "input_file", "file_data": "x", "filename": 5}],
                }
            ],
        },
        "input[0].content[0].filename",
    ),
    (
        "/v1/responses",
        {"model": "wizard", "input": "Hi", "tool_choice": {"type": "function", "name": []}},
        "tool_choice.name",
    ),
    ("/v1/responses", {"model": "wizard", "input": "Hi", "tool_choice": []}, "tool_choice"),
    (
        "/v1/responses",
        {
            "model": "wizard",
            "input": "Hi",
            "text": {"format": {"type": "json_schema", "name": "a", "schema": {"type": "nope"}}},
        },
        "text.format.schema",
    ),
    (
        "/v1/responses",
        {
            "model": "wizard",
            "input": "Hi",
            "tools": [{"type": "function", "name": "f", "parameters": {"required": 1}}],
        },
        "tools[0].parameters",
    ),
    # /v1/chat/completions
    (
        "/v1/chat/completions",
        chat(messages=[{"role": "user", "content": [5]}]),
        "messages[0].content[0]",
    ),
    (
        "/v1/chat/completions",
        chat(messages=user_parts({"type": "image_url", "image_url": 5})),
        "messages[0].content[0].image_url",
    ),
    (
        "/v1/chat/completions",
        chat(messages=user_parts({"type": "input_audio", "input_audio": 5})),
        "messages[0].content[0].input_audio",
    ),
    (
        "/v1/chat/completions",
        chat(messages=user_parts({"type": "input_audio", "input_audio": {"data": 5}})),
        "messages[0].content[0].input_audio.data",
    ),
    (
        "/v1/chat/completions",
        chat(messages=user_parts({"type": "file", "file": {"file_data": 5}})),
        "messages[0].content[0].file.file_data",
    ),
    (
        "/v1/chat/completions",
        chat(messages=user_parts({"type": "refusal", "refusal": 5})),
        "messages[0].content[0].refusal",
    ),
    (
        "/v1/chat/completions",
        chat(messages=[{"role": "assistant", "tool_calls": [{"function": 5}]}]),
        "messages[0].tool_calls[0].function",
    ),
    (
        "/v1/chat/completions",
        chat(messages=[{"role": "assistant", "tool_calls": [{"id": "c", "type": "function"}]}]),
        "messages[0].tool_calls[0].function",
    ),
    (
        "/v1/chat/completions",
        chat(
            messages=[
                {"role": "assistant", "tool_calls": [{"function": {"name": "f", "arguments": {}}}]}
            ]
        ),
        "messages[0].tool_calls[0].function.arguments",
    ),
    (
        "/v1/chat/completions",
        chat(tool_choice={"type": "function", "function": 5}),
        "tool_choice.function",
    ),
    (
        "/v1/chat/completions",
        chat(messages=[{"role": "user", "content": "Hi"}, 5]),
        "messages[1]",
    ),
    (
        "/v1/chat/completions",
        chat(response_format=SCHEMA_FORMAT),
        "response_format.json_schema.schema",
    ),
    (
        "/v1/chat/completions",
        chat(
            tools=[{"type": "function", "function": {"name": "f", "parameters": {"$schema": []}}}]
        ),
        "tools[0].function.parameters",
    ),
    # /v1/moderations
    (
        "/v1/moderations",
        {"input": [{"type": "image_url", "image_url": "https://example.com/a.png"}]},
        "input[0].image_url",
    ),
]


ANTHROPIC_CASES = [
    (
        "/v1/messages",
        anthropic(messages=user_parts({"type": "document", "source": 5})),
        "messages[0].content[0].source",
    ),
    (
        "/v1/messages",
        anthropic(
            messages=user_parts(
                {"type": "document", "source": {"type": "url", "url": "https://a.b/c"}, "title": 5}
            )
        ),
        "messages[0].content[0].title",
    ),
    ("/v1/messages", anthropic(messages=user_parts(5)), "messages[0].content[0]"),
    (
        "/v1/messages",
        anthropic(tools=[{"name": "f", "input_schema": {"required": "a"}}]),
        "tools[0].input_schema",
    ),
    (
        "/v1/messages/count_tokens",
        {
            "model": "wizard",
            "messages": user_parts({"type": "tool_result", "tool_use_id": "t", "content": [5]}),
        },
        "messages[0].content[0].content[0]",
    ),
    ("/v1/messages", anthropic(system=[{"type": "text"}]), "system[0].text"),
]


@pytest.mark.parametrize(("path", "body", "field"), OPENAI_CASES + ANTHROPIC_CASES)
def test_a_malformed_field_is_a_400_naming_it(
    live: tuple[Woz, httpx.Client], path: str, body: dict[str, Any], field: str
) -> None:
    """A field of the wrong shape is a 400 invalid_request_error in the dialect's body,
    whose message starts with the field's path, which OpenAI's `param` is too."""
    _, http = live
    response = http.post(path, json=body)
    assert response.status_code == 400, response.text
    if path.startswith("/v1/messages"):
        assert response.json()["type"] == "error"
        error = response.json()["error"]
        assert set(error) == {"type", "message"}
    else:
        error = response.json()["error"]
        assert set(error) == {"message", "type", "param", "code"}
        assert error["param"] == field
    assert error["type"] == "invalid_request_error"
    assert error["message"].startswith(f"'{field}' ")


UNREADABLE_BODIES = [
    b'{"granted": 1' + b"0" * 5000 + b"}",  # more digits than Python converts
    b"[" * 100_000 + b"]" * 100_000,  # deeper than any parser recurses
    b'{"granted": "\xed\xa0\x80"}',  # a lone surrogate: not UTF-8
]


@pytest.mark.parametrize("raw", UNREADABLE_BODIES, ids=["huge_number", "deep", "not_utf8"])
def test_research_and_page_endpoints_refuse_bodies_they_cannot_read(
    live: tuple[Woz, httpx.Client], raw: bytes
) -> None:
    """The /woz/ API and the chat page answer an unreadable body with 400 invalid_json."""
    woz, http = live
    page = f"/p/{woz.study.id}"
    cookie = http.get(page).cookies["woz_participant"]
    page_headers = {"Cookie": f"woz_participant={cookie}", "X-Woz-Page": "1", "Origin": woz.url}
    for path, headers in (
        ("/woz/participants/someone/reconsent", {}),
        (f"{page}/reconsent", page_headers),
        (f"{page}/consent", page_headers),
    ):
        headers = {**headers, "Content-Type": "application/json"}
        response = http.post(path, content=raw, headers=headers)
        assert response.status_code == 400, (path, response.text)
        assert response.json()["error"]["code"] == "invalid_json"


async def test_a_schema_that_refers_to_nothing_is_refused_to_the_operator(
    woz: Woz, openai_client: openai.AsyncOpenAI
) -> None:
    """An answer cannot be checked against a schema whose $ref points nowhere: the operator's
    reply is rejected as bad_schema (it used to crash the reply), and nothing is sent."""
    op = await woz.online_operator()
    broken = {"type": "json_schema", "json_schema": {"name": "a", "schema": {"$ref": "#/nowhere"}}}
    pending = ask(openai_client, response_format=broken)
    task = await op.next_task()
    outcome = await op.reply(task["id"], "{}")
    assert outcome["type"] == "reply.rejected"
    assert outcome["error"]["code"] == "bad_schema"
    assert not pending.done()
    pending.cancel()
    with pytest.raises(asyncio.CancelledError):
        await pending
