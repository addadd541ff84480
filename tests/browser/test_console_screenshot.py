"""The README's picture of the console, made from a realistic session.

Run with WOZ_UPDATE_SCREENSHOT=1 to refresh docs/console.png; otherwise the
screenshot goes to a temporary folder and only its making is checked.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import urllib.parse
from pathlib import Path

import openai
import pytest
from playwright.async_api import Browser, expect

from tests.browser.conftest import open_console
from tests.conftest import Woz

pytestmark = pytest.mark.browser

DOCS_PICTURE = Path(__file__).parents[2] / "docs" / "console.png"

STUDY = """
[study]
id = "suggest-concierge"
title = "SuggEst: would shoppers trust an AI concierge?"

[[personas]]
id = "suggest-1"
display_name = "SuggEst concierge"
guide = \"\"\"
You are SuggEst, a warm, concise luxury-shopping concierge. Recommend one product
at a time, with the brand and one reason. Ask about budget before recommending.
Never claim to have bought or shipped anything.
\"\"\"

[routing]
answer_timeout_s = 240
reconnect_grace_s = 10

[pacing]
tokens_per_second = 0
first_token_delay_ms = 0

[[snippets]]
key = "1"
label = "Greeting"
text = "Hello! I'm SuggEst. Who are you shopping for today?"

[[snippets]]
key = "2"
label = "Ask budget"
text = "Lovely. What budget did you have in mind?"

[[snippets]]
key = "3"
label = "Wrap up"
text = "I hope they love it. Is there anything else I can help you find?"
"""

PHOTO_SVG = """<svg xmlns='http://www.w3.org/2000/svg' width='360' height='200' \
viewBox='0 0 360 200'>
<defs><linearGradient id='g' x1='0' y1='0' x2='1' y2='1'>
<stop offset='0' stop-color='#f3e7d3'/><stop offset='1' stop-color='#e2cfb0'/></linearGradient>
<pattern id='p' width='28' height='28' patternUnits='userSpaceOnUse' patternTransform='rotate(35)'>
<rect width='14' height='28' fill='#9c2f2f'/><rect x='14' width='14' height='28' fill='#c8553d'/>
</pattern></defs>
<rect width='360' height='200' fill='url(#g)'/>
<path d='M70 30 C150 60 210 60 290 30 L300 150 C220 180 140 180 60 150 Z' fill='url(#p)'/>
<path d='M60 150 l-6 28 M72 154 l-4 30 M84 157 l-2 30 M290 150 l6 28 M278 154 l4 30' \
stroke='#7a2323' stroke-width='3'/>
</svg>"""

SYSTEM = "You are SuggEst, a shopping concierge. Be brief and friendly."
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "search_catalog",
            "description": "Search the partner boutiques' catalog by keywords and price.",
            "parameters": {
                "type": "object",
                "properties": {"query": {"type": "string"}, "max_price": {"type": "number"}},
                "required": ["query"],
            },
        },
    }
]


@pytest.mark.parametrize("study_toml", [STUDY], indirect=True)
async def test_console_screenshot(
    browser: Browser, woz: Woz, openai_client: openai.AsyncOpenAI, tmp_path: Path
) -> None:
    """Two participants waiting, one conversation open with a draft: saved as a PNG."""
    photo = "data:image/svg+xml," + urllib.parse.quote(PHOTO_SVG)
    async with open_console(browser, woz, color_scheme="light") as console:
        page = console.page
        await console.login()
        await console.ready(capacity=2)
        first = asyncio.create_task(
            openai_client.chat.completions.create(
                model="suggest-1",
                user="participant-017",
                tools=TOOLS,  # type: ignore[arg-type]
                messages=[
                    {"role": "system", "content": SYSTEM},
                    {
                        "role": "user",
                        "content": "Hi! I need a birthday present for my sister, "
                        "she turns 30 next week.",
                    },
                    {
                        "role": "assistant",
                        "content": "Happy early birthday to her! What does she love most: "
                        "fashion, home, or experiences? And what budget did you have in mind?",
                    },
                    {
                        "role": "user",
                        "content": [
                            {
                                "type": "text",
                                "text": "Fashion, and she is always cold in winter. Around "
                                "200 euros. She loved this one but it's sold out:",
                            },
                            {"type": "image_url", "image_url": {"url": photo}},
                        ],
                    },
                ],
            )
        )
        await console.task_shown("always cold in winter")
        await page.keyboard.type(
            "Then a cashmere scarf would be perfect: Johnstons of Elgin make a "
            "similar tartan in a deep red, around 180 euros, and it is very warm."
        )
        second = asyncio.create_task(
            openai_client.chat.completions.create(
                model="suggest-1",
                user="participant-022",
                messages=[{"role": "user", "content": "Do you have gift ideas for a new dad?"}],
            )
        )
        await expect(page.locator(".task-tab")).to_have_count(2)
        await expect(page.locator(".msg-image")).to_be_visible()
        await page.wait_for_function(
            "() => [...document.images].every((img) => img.complete && img.naturalWidth > 0)"
        )
        target = tmp_path / "console.png"
        await page.screenshot(path=str(target))
        assert target.stat().st_size > 10_000
        if os.environ.get("WOZ_UPDATE_SCREENSHOT") == "1":
            shutil.copyfile(target, DOCS_PICTURE)
        for call in (first, second):
            call.cancel()
        await asyncio.gather(first, second, return_exceptions=True)
