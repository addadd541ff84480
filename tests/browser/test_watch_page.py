"""The researcher's watch page in Chromium: a request followed live, its text shown as text."""

from __future__ import annotations

import asyncio

import openai
import pytest
from playwright.async_api import Browser, expect

from tests.browser.conftest import finish, open_console
from tests.browser.injection import PAYLOADS, assert_nothing_injected
from tests.conftest import Woz, ask
from woz.auth.tokens import create_key

pytestmark = pytest.mark.browser


async def test_a_researcher_watches_an_exchange_live(
    browser: Browser, woz: Woz, openai_client: openai.AsyncOpenAI
) -> None:
    _, token = await create_key(woz.store, woz.study.id, "researcher", "Rita")
    operator = await woz.online_operator()
    question = f"Any vegetarian options? {PAYLOADS[0]}"
    # The CSP is bypassed so that only the page's own rendering stands between
    # participant text and the DOM.
    async with open_console(browser, woz, bypass_csp=True) as watcher:
        page = watcher.page
        await page.goto(f"{woz.url}/watch/login?token={token}")
        await expect(page).to_have_url(f"{woz.url}/watch/")
        await expect(page.locator("#study")).to_have_text("A test study")
        await expect(page.locator("#operators")).to_contain_text("Olive")
        await expect(page.locator("#operators .presence")).to_have_text("ready")
        await expect(page.locator("#tasks")).to_contain_text("Nothing is waiting")

        pending = ask(openai_client, question, extra_headers={"X-Woz-Participant": "visitor-1"})
        task = await operator.next_task()
        card = page.locator(f'#tasks [data-task="{task["id"]}"]')
        await expect(card.locator(".participant-text")).to_have_text(question)
        await expect(card.locator(".status")).to_contain_text("with Olive")

        await operator.typing(task["id"], "We have three")
        await expect(card.locator(".draft")).to_have_text("We have three")

        await operator.reply(task["id"], "We have three vegetarian mains.")
        completion = await finish(pending)
        assert completion.choices[0].message.content == "We have three vegetarian mains."
        await expect(page.locator("#tasks")).to_contain_text("Nothing is waiting")
        record = page.locator("#recent .record").first
        await expect(record.locator(".answer")).to_have_text("We have three vegetarian mains.")
        await expect(record.locator(".participant-text")).to_have_text(question)
        await expect(record.locator(".meta")).to_contain_text("by human")
        await expect(record.locator(".flags span")).to_have_text("delivered")

        # Follow the participant: their pseudonym goes into the box, the page shows theirs.
        await record.locator(".meta .participant").click()
        await expect(page.locator("#follow")).to_have_value(task["participant"])
        await expect(page.locator("#unfollow")).to_be_visible()
        await expect(page.locator("#recent .record")).to_have_count(1)
        await page.locator("#unfollow").click()
        await expect(page.locator("#follow")).to_have_value("")
        await expect(page.locator("#unfollow")).to_be_hidden()

        await assert_nothing_injected(page)


async def test_the_watch_page_says_when_the_session_is_missing(browser: Browser, woz: Woz) -> None:
    async with open_console(browser, woz) as watcher:
        await watcher.page.goto(f"{woz.url}/watch/")
        await expect(watcher.page.locator("#connection")).to_contain_text(
            "Log in with a researcher link"
        )


async def test_a_researcher_flags_a_wizard_error_from_the_page(
    browser: Browser, woz: Woz, openai_client: openai.AsyncOpenAI
) -> None:
    _, token = await create_key(woz.store, woz.study.id, "researcher", "Rita")
    operator = await woz.online_operator()
    pending = ask(openai_client, "Recommend a wine?")
    task = await operator.next_task()
    ack = await operator.reply(task["id"], "Any red will do.")
    await finish(pending)
    async with open_console(browser, woz) as watcher:
        page = watcher.page
        await page.goto(f"{woz.url}/watch/login?token={token}")
        card = page.locator(f'#recent [data-record="{ack["record_id"]}"]')
        await card.get_by_role("button", name="Flag as a wizard error").click()
        note = card.get_by_role("textbox", name="Why was this answer a wizard error?")
        await note.fill("answered without asking about the meal")
        # The page keeps polling; what is being typed survives the next update.
        status = page.locator("#connection")
        before = await status.text_content()
        await expect(status).not_to_have_text(before or "")
        await expect(note).to_have_value("answered without asking about the meal")

        await note.press("Enter")
        await expect(card.locator(".flags")).to_contain_text(
            "wizard error: answered without asking about the meal"
        )
        stored = await woz.store.get_record(ack["record_id"])
        assert stored is not None
        assert stored.wizard_error == "answered without asking about the meal"

        await card.get_by_role("button", name="Change the flag").click()
        await card.get_by_role("button", name="Clear the flag").click()
        await expect(card.get_by_role("button", name="Flag as a wizard error")).to_be_visible()
        stored = await woz.store.get_record(ack["record_id"])
        assert stored is not None and stored.wizard_error is None


async def test_the_whole_conversation_opens_and_stays_open(
    browser: Browser, woz: Woz, openai_client: openai.AsyncOpenAI
) -> None:
    _, token = await create_key(woz.store, woz.study.id, "researcher", "Rita")
    operator = await woz.online_operator()
    history = [
        {"role": "user", "content": f"Hello {PAYLOADS[1]}"},
        {"role": "assistant", "content": "Hello! How can I help?"},
        {"role": "user", "content": "A table for two?"},
    ]
    pending = asyncio.create_task(
        openai_client.chat.completions.create(model="wizard", messages=history)  # type: ignore[arg-type]
    )
    task = await operator.next_task()
    async with open_console(browser, woz, bypass_csp=True) as watcher:
        page = watcher.page
        await page.goto(f"{woz.url}/watch/login?token={token}")
        card = page.locator(f'#tasks [data-task="{task["id"]}"]')
        await card.get_by_role("button", name="Show the conversation (3 turns)").click()
        turns = card.locator(".conversation .turn-text")
        await expect(turns).to_have_text(
            [f"Hello {PAYLOADS[1]}", "Hello! How can I help?", "A table for two?"]
        )
        # Still open after the next refresh.
        status = page.locator("#connection")
        before = await status.text_content()
        await expect(status).not_to_have_text(before or "")
        await expect(turns).to_have_count(3)
        await assert_nothing_injected(page)
        await card.get_by_role("button", name="Hide the conversation").click()
        await expect(turns).to_have_count(0)
    await operator.reply(task["id"], "Of course.")
    await finish(pending)


async def test_a_note_from_the_watch_page_shows_in_the_operators_console(
    browser: Browser, woz: Woz
) -> None:
    _, token = await create_key(woz.store, woz.study.id, "researcher", "Rita")
    async with open_console(browser, woz) as console, open_console(browser, woz) as watcher:
        await console.login()
        page = watcher.page
        await page.goto(f"{woz.url}/watch/login?token={token}")
        await expect(page.locator("#operators")).to_contain_text("Olive")
        await page.locator("#notice-text").fill("<b>Pilot</b> participant next: go slowly.")
        await page.locator("#notice-text").press("Enter")
        await expect(page.locator("#notice-result")).to_have_text("Sent to 1 operator.")
        note = console.page.locator(".notice-text")
        await expect(note).to_have_text("Note from Rita: <b>Pilot</b> participant next: go slowly.")
        await expect(page.locator("#notice-text")).to_have_value("")
