"""Answering from the console with the keyboard: text, snippets, live typing, several tasks."""

from __future__ import annotations

import asyncio

import openai
import pytest
from playwright.async_api import Browser, expect

from tests.browser.conftest import Console, finish, open_console
from tests.conftest import Woz, ask

pytestmark = pytest.mark.browser


async def test_operator_answers_an_sdk_request(
    console: Console, openai_client: openai.AsyncOpenAI
) -> None:
    """Login link, Ready, the request arrives focused; Enter sends exactly what was typed."""
    page = console.page
    await console.login()
    await expect(page).to_have_title("woz console")
    await console.ready()
    call = asyncio.create_task(
        openai_client.chat.completions.create(
            model="wizard",
            messages=[
                {"role": "system", "content": "You are a shopping assistant."},
                {"role": "user", "content": "Recommend a scarf"},
            ],
        )
    )
    await console.task_shown("Recommend a scarf")
    await expect(console.view.locator(".msg-system")).to_contain_text("shopping assistant")
    await expect(page).to_have_title("(1) woz console")
    await expect(console.composer).to_be_focused()
    await page.keyboard.type("Try the cashmere one.")
    await page.keyboard.press("Shift+Enter")
    await page.keyboard.type("It is very soft.")
    await page.keyboard.press("Enter")
    completion = await finish(call)
    assert completion.choices[0].message.content == "Try the cashmere one.\nIt is very soft."
    await expect(page.locator(".notice-success")).to_contain_text("Answer sent")
    await expect(page).to_have_title("woz console")
    await expect(page.locator(".empty-state")).to_contain_text("Waiting for the next task")


async def test_snippets_by_hotkey_and_picker(
    console: Console, openai_client: openai.AsyncOpenAI
) -> None:
    """Alt+<key> inserts a snippet, Ctrl+K finds one by search; the SDK gets both."""
    page = console.page
    await console.login()
    await console.ready()
    call = ask(openai_client, "hello?")
    await console.task_shown("hello?")
    await page.keyboard.press("Alt+1")
    await expect(console.composer).to_have_value("Hello there!")
    await page.keyboard.type(" ")
    await page.keyboard.press("Control+k")
    picker = page.locator(".picker-input")
    await expect(picker).to_be_focused()
    await picker.type("hell")
    await expect(page.locator(".picker-item.active")).to_contain_text("Hello there!")
    await page.keyboard.press("Enter")
    await expect(console.composer).to_be_focused()
    await expect(console.composer).to_have_value("Hello there! Hello there!")
    await page.keyboard.press("Enter")
    completion = await finish(call)
    assert completion.choices[0].message.content == "Hello there! Hello there!"


async def test_live_typing_streams_and_locks_what_was_sent(
    console: Console, openai_client: openai.AsyncOpenAI
) -> None:
    """A live persona streams whole words as they are typed; the sent part cannot be edited."""
    page = console.page
    await console.login()
    await console.ready()
    pieces: list[str] = []
    first_words = asyncio.Event()

    async def consume() -> str:
        stream = await openai_client.chat.completions.create(
            model="org/wizard-live",
            messages=[{"role": "user", "content": "Say something nice"}],
            stream=True,
        )
        async for chunk in stream:
            if chunk.choices and chunk.choices[0].delta.content:
                pieces.append(chunk.choices[0].delta.content)
                if "".join(pieces).startswith("You look "):
                    first_words.set()
        return "".join(pieces)

    call = asyncio.create_task(consume())
    await console.task_shown("Say something nice")
    await expect(console.view.locator(".badge-live")).to_be_visible()
    await page.keyboard.type("You look wonder")
    await asyncio.wait_for(first_words.wait(), 5)
    assert "".join(pieces) == "You look "
    await expect(console.view.locator(".live-note")).to_contain_text("first 9 characters")
    # Trying to delete everything leaves the streamed words in place.
    await page.keyboard.press("Control+a")
    await page.keyboard.press("Backspace")
    await expect(console.composer).to_have_value("You look wonder")
    await expect(console.view.locator(".composer-status")).to_contain_text("already seen")
    await page.keyboard.press("End")
    await page.keyboard.type("ful today.")
    await page.keyboard.press("Enter")
    assert await finish(call) == "You look wonderful today."


async def test_several_tasks_are_tabs_switched_by_keyboard(
    console: Console, openai_client: openai.AsyncOpenAI
) -> None:
    """With capacity 2 both tasks are held; Alt+Down switches; each keeps its own draft."""
    page = console.page
    await console.login()
    await console.ready(capacity=2)
    first = ask(openai_client, "First question")
    await console.task_shown("First question")
    await page.keyboard.type("Answer one")
    second = ask(openai_client, "Second question")
    await expect(page.locator(".task-tab")).to_have_count(2)
    await expect(page).to_have_title("(2) woz console")
    await expect(console.composer).to_be_focused()  # the new task did not steal focus
    await page.keyboard.press("Alt+ArrowDown")
    await console.task_shown("Second question")
    await expect(console.composer).to_be_focused()
    await page.keyboard.type("Answer two")
    await page.keyboard.press("Enter")
    assert (await finish(second)).choices[0].message.content == "Answer two"
    await console.task_shown("First question")
    await expect(console.composer).to_have_value("Answer one")
    await page.keyboard.press("Enter")
    assert (await finish(first)).choices[0].message.content == "Answer one"


async def test_help_overlay_lists_the_keys(console: Console) -> None:
    """? opens the shortcut help, Escape closes it."""
    page = console.page
    await console.login()
    await page.keyboard.press("?")
    help_overlay = page.locator(".help-overlay")
    await expect(help_overlay).to_be_visible()
    await expect(help_overlay).to_contain_text("Release the task")
    await page.keyboard.press("Escape")
    await expect(help_overlay).to_be_hidden()
    await page.keyboard.press("F1")
    await expect(help_overlay).to_be_visible()


async def test_without_login_the_console_says_so(browser: Browser, woz: Woz) -> None:
    """Opening the console without the login link shows a clear message, not a dead page."""
    async with open_console(browser, woz) as console:
        await console.page.goto(f"{woz.url}/console/")
        blocker = console.page.locator(".blocker")
        await expect(blocker).to_be_visible()
        await expect(blocker).to_contain_text("Not logged in")
        await expect(blocker).to_contain_text("login link")


async def test_a_sent_answer_can_be_reported_as_a_mistake(
    console: Console, openai_client: openai.AsyncOpenAI
) -> None:
    """Your work counts the answer; the Sent list keeps it, and reporting it flags the
    record with the operator's note."""
    page = console.page
    await console.login()
    await console.ready()
    call = ask(openai_client, "Which scarf?")
    await console.task_shown("Which scarf?")
    await page.keyboard.type("The red one.")
    await page.keyboard.press("Enter")
    await finish(call)
    work = page.locator(".work-info")
    await expect(work).to_contain_text("0 answers")  # as of login
    await work.click()  # refreshes
    await expect(work).to_contain_text("1 answer ·")
    sent = page.locator(".sent-item")
    await expect(sent).to_have_count(1)
    await expect(sent).to_contain_text("Which scarf?")
    await sent.get_by_role("button", name="Report a mistake").click()
    note = page.get_by_label("What went wrong")
    await expect(note).to_be_focused()
    await note.type("Recommended an item that is out of stock")
    await page.keyboard.press("Control+Enter")
    await expect(sent).to_contain_text("Reported as a mistake")
    await expect(page.locator(".notice-success").last).to_contain_text("mistake is noted")
    record_id = await sent.get_attribute("data-record-id")
    assert record_id is not None
    record = await console.woz.store.get_record(record_id)
    assert record is not None
    assert (
        record.wizard_error == "reported by the operator: Recommended an item that is out of stock"
    )
