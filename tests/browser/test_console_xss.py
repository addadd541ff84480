"""Participant and app text is shown as text, never run: a corpus of XSS payloads.

The page runs with its CSP bypassed, so the console's own rendering (textContent,
properties, vetted URLs) is the only thing between a payload and execution.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from datetime import UTC, datetime
from typing import Any

import openai
import pytest
from playwright.async_api import Browser, expect

from tests.browser.conftest import Console, open_console
from tests.browser.injection import PAYLOADS, assert_nothing_injected
from tests.conftest import Woz
from woz.models.task import ContentPart, Message, Task

pytestmark = pytest.mark.browser


def hostile_request() -> dict[str, Any]:
    """A chat request whose every app-controlled string is a payload."""
    calls = [
        {
            "id": f"call_{i}",
            "type": "function",
            "function": {"name": "lookup", "arguments": json.dumps({"q": p})},
        }
        for i, p in enumerate(PAYLOADS)
    ]
    messages: list[dict[str, Any]] = [{"role": "system", "content": PAYLOADS[0]}]
    messages += [{"role": "user", "content": p} for p in PAYLOADS]
    messages.append({"role": "assistant", "content": None, "tool_calls": calls})
    messages += [
        {"role": "tool", "tool_call_id": f"call_{i}", "content": p} for i, p in enumerate(PAYLOADS)
    ]
    messages.append(
        {
            "role": "user",
            "name": PAYLOADS[1],
            "content": [
                {"type": "text", "text": "pictures"},
                {
                    "type": "image_url",
                    "image_url": {
                        "url": "data:image/svg+xml,<svg xmlns='http://www.w3.org/2000/svg' "
                        "onload='window.__xss=1'><script>window.__xss=1</script></svg>"
                    },
                },
                {
                    "type": "image_url",
                    "image_url": {"url": 'https://example.invalid/a.png"onerror="window.__xss=1'},
                },
            ],
        }
    )
    schema = {
        "type": "object",
        "title": PAYLOADS[3],
        "description": PAYLOADS[4],
        "properties": {
            "answer": {"type": "string", "description": PAYLOADS[2], "title": PAYLOADS[5]},
            "choice": {"type": "string", "enum": PAYLOADS[:30]},
            PAYLOADS[13]: {"type": "boolean", "description": PAYLOADS[14]},
            "items": {"type": "array", "items": {"type": "string", "description": PAYLOADS[15]}},
        },
        "required": ["answer", "choice", PAYLOADS[13], "items"],
    }
    return {
        "model": "wizard",
        "messages": messages,
        "response_format": {
            "type": "json_schema",
            "json_schema": {"name": "hostile", "schema": schema},
        },
        "tools": [
            {
                "type": "function",
                "function": {
                    "name": "lookup",
                    "description": PAYLOADS[7],
                    "parameters": {
                        "type": "object",
                        "properties": {"q": {"type": "string", "description": PAYLOADS[8]}},
                        "required": ["q"],
                    },
                },
            }
        ],
    }


def hostile_media_task(woz: Woz) -> Task:
    """A task with media URLs no facade would let through, straight to the dispatcher."""
    return Task(
        study_id=woz.study.id,
        persona="wizard",
        api="test.direct",
        received_at=datetime.now(UTC),
        request_key="xss-media",
        messages=[
            Message(
                role="user",
                content=[
                    ContentPart(type="text", text="media"),
                    ContentPart(type="image", url="javascript:window.__xss=1"),
                    ContentPart(type="image", url=" JaVaScRiPt:alert(1)"),
                    ContentPart(type="image", url="data:text/html,<script>window.__xss=1</script>"),
                    ContentPart(type="audio", url="javascript:window.__xss=1"),
                    ContentPart(type="file", text=PAYLOADS[0], url="javascript:window.__xss=1"),
                ],
            )
        ],
    )


def test_the_corpus_is_big_and_varied() -> None:
    """At least a hundred distinct payloads."""
    assert len(PAYLOADS) >= 100
    assert len(set(PAYLOADS)) == len(PAYLOADS)


async def test_payloads_render_as_literal_text(
    browser: Browser, woz: Woz, openai_client: openai.AsyncOpenAI
) -> None:
    """Messages, tool results, names, schema hints and URLs: all shown, none run."""
    async with open_console(browser, woz, bypass_csp=True) as console:
        await check_payloads(console, woz, openai_client)


async def check_payloads(console: Console, woz: Woz, openai_client: openai.AsyncOpenAI) -> None:
    page = console.page
    await console.login()
    await console.ready(capacity=2)
    call = asyncio.create_task(openai_client.chat.completions.create(**hostile_request()))
    await console.task_shown("pictures")
    view = console.view

    assert await view.locator(".msg-system .msg-text").all_text_contents() == [PAYLOADS[0]]
    user_texts = await view.locator(".msg-user .msg-text").all_text_contents()
    assert user_texts == [*PAYLOADS, "pictures"]
    assert await view.locator(".msg-tool .msg-text").all_text_contents() == PAYLOADS
    await expect(view.locator(".msg-user .msg-name")).to_have_text(PAYLOADS[1])
    hints = await view.locator(".field-hint").all_text_contents()
    assert PAYLOADS[2] in hints and PAYLOADS[4] in hints and PAYLOADS[14] in hints
    options = await view.locator('select[data-path="choice"] option').all_text_contents()
    assert options[1:] == PAYLOADS[:30]
    assert PAYLOADS[13] in await view.locator(".field-name").all_text_contents()
    await view.locator('button[data-path="items"]').click()
    await expect(view.locator(".field-hint", has_text=PAYLOADS[15])).to_have_count(1)
    await page.keyboard.press("Alt+j")  # raw JSON and back
    await page.keyboard.press("Alt+j")
    await page.keyboard.press("Alt+t")
    await expect(view.locator(".tool-call-editor")).to_contain_text(PAYLOADS[7])
    await expect(page.locator(".aside .tool-desc")).to_have_text(PAYLOADS[7])

    media = await woz.runtime.dispatcher.submit(hostile_media_task(woz))
    await expect(page.locator(".task-tab")).to_have_count(2)
    await page.keyboard.press("Alt+ArrowDown")
    await console.task_shown("media")
    blocked = console.view.locator(".msg-blocked .msg-url")
    await expect(blocked).to_have_count(4)
    await expect(blocked.first).to_have_text("javascript:window.__xss=1")
    await expect(console.view.locator(".msg-file")).to_contain_text(PAYLOADS[0])

    # Hover and click over everything shown, for payloads that wait for the pointer.
    for locator in (console.view.locator(".msg-user").first, console.view.locator(".transcript")):
        await locator.hover()
        await locator.click()
    await assert_nothing_injected(page)
    assert console.dialogs == []

    woz.runtime.dispatcher.finish(media, delivered=False)
    call.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await call
