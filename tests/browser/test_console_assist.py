"""Assist personas: a model's draft streams into the console and the operator edits it."""

from __future__ import annotations

import openai
import pytest
from aiohttp.test_utils import TestServer
from playwright.async_api import expect

from tests.browser.conftest import Console, finish
from tests.conftest import STUDY_TOML, ask
from tests.fake_upstream import DRAFT

pytestmark = pytest.mark.browser


@pytest.fixture
def study_toml(upstream: TestServer) -> str:
    return (
        STUDY_TOML
        + f"""
[[upstreams]]
id = "fake"
base_url = "{upstream.make_url("/v1")}"
model = "fake-1"
timeout_s = 2

[[personas]]
id = "assist"
display_name = "Assisted concierge"
mode = "assist"
upstream = "fake"
guide = "Check the model's draft before sending."
"""
    )


async def test_model_draft_fills_the_composer_for_editing(
    console: Console, openai_client: openai.AsyncOpenAI
) -> None:
    """The finished draft lands in the empty composer; the edited text is what the app gets."""
    page = console.page
    await console.login()
    await console.ready()
    call = ask(openai_client, "A gift for my aunt?", model="assist")
    await console.task_shown("A gift for my aunt?")
    draft_panel = console.view.locator(".model-draft")
    await expect(draft_panel).to_contain_text("complete")
    await expect(draft_panel.locator(".draft-text")).to_have_text(DRAFT + " ")
    await expect(console.composer).to_have_value(DRAFT + " ")
    await expect(console.composer).to_be_focused()
    await console.composer.fill(DRAFT.replace("timeless", "lovely"))
    await page.keyboard.press("Alt+d")  # back to the model's words
    await expect(console.composer).to_have_value(DRAFT + " ")
    await console.composer.fill(DRAFT.replace("timeless", "lovely"))
    await page.keyboard.press("Enter")
    completion = await finish(call)
    assert completion.choices[0].message.content == DRAFT.replace("timeless", "lovely")
