"""A participant on a phone: consent, a streamed chat, the debrief, and withdrawal.

The README's picture of the page (docs/participant.png) is taken on the way.
Run with WOZ_UPDATE_SCREENSHOT=1 to refresh it; otherwise it goes to a
temporary folder and only its making is checked.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestServer
from playwright.async_api import Browser, Page, expect

from tests.browser.conftest import WAIT_S
from tests.conftest import Woz, start_woz
from tests.integration.page_client import PAGE_STUDY_TOML
from woz.config import Settings
from woz.models.pseudonyms import tombstone_of
from woz.research.debrief import WHO_WROTE

pytestmark = pytest.mark.browser

DOCS_PICTURE = Path(__file__).parents[2] / "docs" / "participant.png"
PHONE = {"viewport": {"width": 390, "height": 780}, "device_scale_factor": 2, "is_mobile": True}
QUESTION = "A gift idea for my sister? She loves gardening, budget about 80 euros."
ANSWER = (
    "How about a Niwaki pruning set: Japanese steel secateurs with a canvas roll? "
    "It is about 75 euros, a joy to use, and lasts for decades."
)


@asynccontextmanager
async def phone_page(browser: Browser) -> AsyncIterator[Page]:
    """A page in a fresh phone-sized context (own cookies); fails on uncaught script errors."""
    context = await browser.new_context(**PHONE)  # type: ignore[arg-type]
    context.set_default_timeout(WAIT_S * 1000)
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        yield page
    finally:
        await context.close()
    assert errors == [], f"uncaught errors on the page: {errors}"


async def chat_turn(page: Page, woz: Woz, question: str, answer: str) -> dict[str, Any]:
    """Send `question` from the page; a scripted operator answers; returns the task."""
    op = await woz.ready_operator()
    await page.get_by_label("Message").fill(question)
    await page.get_by_label("Message").press("Enter")
    await expect(page.locator(".msg-user .bubble").last).to_have_text(question)
    task: dict[str, Any] = await op.next_task()
    await op.reply(task["id"], answer)
    await expect(page.locator(".msg-assistant .bubble").last).to_have_text(answer)
    return task


async def save_picture(page: Page, tmp_path: Path) -> None:
    picture = tmp_path / "participant.png"
    await page.get_by_label("Message").blur()
    await page.screenshot(path=str(picture))
    assert picture.stat().st_size > 10_000
    if os.environ.get("WOZ_UPDATE_SCREENSHOT"):
        shutil.copyfile(picture, DOCS_PICTURE)


@pytest.mark.parametrize("study_toml", [PAGE_STUDY_TOML], indirect=True)
async def test_consent_chat_debrief_and_withdrawal(
    browser: Browser, woz: Woz, settings: Settings, tmp_path: Path
) -> None:
    """The whole participant journey; afterwards the store holds nothing of them."""
    async with phone_page(browser) as page:
        await page.goto(f"{woz.url}/p/{woz.study.id}")
        await expect(page.get_by_role("heading", name="Before you start")).to_be_visible()
        await expect(page.locator("#consent-text")).to_contain_text("shopping assistant prototype")
        await expect(page.get_by_role("checkbox")).to_have_count(2)
        await page.get_by_role("checkbox").first.check()  # not excerpts in publications
        await page.get_by_role("button", name="I agree, start the chat").click()
        await expect(page.get_by_text("Say hello to Concierge.")).to_be_visible()

        task = await chat_turn(page, woz, QUESTION, ANSWER)
        [cookie] = [c for c in await page.context.cookies() if c["name"] == "woz_participant"]
        participant = cookie["value"].rpartition(".")[0]
        assert task["participant"] == participant and cookie["httpOnly"]
        await chat_turn(page, woz, "Lovely! Can it be gift-wrapped?", "Yes, with a card.")
        assert (await page.evaluate("document.documentElement.scrollWidth")) <= 390
        await save_picture(page, tmp_path)

        await page.get_by_role("button", name="End chat").click()
        debrief = page.locator("#debrief")
        await expect(debrief).to_contain_text(WHO_WROTE["human"])
        await expect(debrief).to_contain_text("Knowing a person answers changes")
        await expect(debrief).to_contain_text("You may withdraw your data now")

        await page.get_by_role("button", name="Withdraw and delete my data").click()
        await expect(page.get_by_role("heading", name="Your data has been deleted")).to_be_visible()
        await expect(page.locator("#withdrawn-text")).to_contain_text("(2 turns deleted)")

        refused = await page.evaluate(
            """async (path) => {
                const response = await fetch(path, {
                    method: "POST",
                    headers: {"Content-Type": "application/json", "X-Woz-Page": "1"},
                    body: JSON.stringify({model: "concierge", stream: true,
                                          messages: [{role: "user", content: "Hello again"}]}),
                });
                return [response.status, (await response.json()).error.code];
            }""",
            f"/p/{woz.study.id}/chat/completions",
        )
        assert refused == [403, "participant_withdrawn"]
        await page.reload()
        await expect(page.get_by_role("heading", name="Your data has been deleted")).to_be_visible()

    study = woz.study.id
    status = await woz.runtime.participants.status(participant)
    assert status.withdrawn and status.consent is None
    assert [r for r in await woz.store.list_records(study) if r.participant == participant] == []
    assert await woz.store.get_response("any", study) is None
    # Consent and disclosure events survive only as proof, keyed by the tombstone.
    assert {c.subject for c in await woz.store.list_consents(study)} == {tombstone_of(participant)}
    if settings.database_url is not None:
        return  # PostgreSQL frees deleted rows by VACUUM, not at once (docs/deploy.md)
    database = b"".join(
        path.read_bytes() for path in settings.data.iterdir() if path.name.startswith("woz.db")
    )
    for trace in (participant, QUESTION, ANSWER, "gift-wrapped", "with a card"):
        assert trace.encode() not in database, trace


ANALYSIS = "analysis by the research team for this study"
EXCERPTS = "short excerpts quoted in publications"


@pytest.mark.parametrize("study_toml", [PAGE_STUDY_TOML], indirect=True)
@pytest.mark.parametrize("ticks", [[ANALYSIS], [ANALYSIS, EXCERPTS]])
async def test_consent_is_opt_in_and_records_exactly_the_uses_ticked(
    browser: Browser, woz: Woz, ticks: list[str]
) -> None:
    """Every use starts unticked; until the use needed to take part is ticked the page says so
    and "I agree" waits; the consent recorded has exactly the uses the participant ticked."""
    ids = {ANALYSIS: "in_study_analysis", EXCERPTS: "publication_excerpts"}
    async with phone_page(browser) as page:
        await page.goto(f"{woz.url}/p/{woz.study.id}")
        boxes = page.get_by_role("checkbox")
        await expect(boxes).to_have_count(2)
        for box in await boxes.all():
            await expect(box).not_to_be_checked()
        agree = page.get_by_role("button", name="I agree, start the chat")
        hint = page.locator("#consent-hint")
        await expect(agree).to_be_disabled()
        await expect(hint).to_contain_text(f"To take part, tick “{ANALYSIS}”")
        await expect(page.get_by_text(f"{ANALYSIS} (needed to take part)")).to_be_visible()
        await page.get_by_role("checkbox", name=EXCERPTS).check()  # optional alone is not enough
        await expect(agree).to_be_disabled()
        await page.get_by_role("checkbox", name=EXCERPTS).uncheck()
        for label in ticks:
            await page.get_by_role("checkbox", name=label).check()
        await expect(hint).to_be_hidden()
        await agree.click()
        await expect(page.get_by_text("Say hello to Concierge.")).to_be_visible()

        [cookie] = [c for c in await page.context.cookies() if c["name"] == "woz_participant"]
        await page.goto(f"{woz.url}/woz/p/{cookie['value']}")  # the plain-HTML page says so
        await expect(page.get_by_text("You agreed on")).to_be_visible()
    [consent] = await woz.store.list_consents(woz.study.id)
    assert consent.scopes == [ids[label] for label in ticks]


@pytest.mark.parametrize("study_toml", [PAGE_STUDY_TOML], indirect=True)
async def test_plain_page_consent_is_opt_in_too(browser: Browser, woz: Woz) -> None:
    """The plain-HTML page starts unticked, does not take "I agree" without the use taking part
    needs, and records exactly the uses ticked."""
    async with phone_page(browser) as page:
        await page.goto(f"{woz.url}/p/{woz.study.id}")  # a participant, and their page token
        [cookie] = [c for c in await page.context.cookies() if c["name"] == "woz_participant"]
        await page.goto(f"{woz.url}/woz/p/{cookie['value']}")
        consent = page.locator("form", has=page.get_by_role("button", name="I agree"))
        boxes = consent.get_by_role("checkbox")
        await expect(boxes).to_have_count(2)
        for box in await boxes.all():
            await expect(box).not_to_be_checked()
        await consent.get_by_role("checkbox", name=EXCERPTS).check()
        await page.get_by_role("button", name="I agree").click()  # the browser holds it back
        assert await consent.get_by_role("checkbox", name=ANALYSIS).evaluate(
            "box => box.validity.valueMissing"
        )
        assert await woz.store.list_consents(woz.study.id) == []
        await consent.get_by_role("checkbox", name=ANALYSIS).check()
        await page.get_by_role("button", name="I agree").click()
        await expect(page.get_by_text("You agreed on")).to_contain_text(f"{ANALYSIS}, {EXCERPTS}")
    [recorded] = await woz.store.list_consents(woz.study.id)
    assert recorded.scopes == ["in_study_analysis", "publication_excerpts"]


RECONSENT_TOML = PAGE_STUDY_TOML.replace(
    "[study.debrief]", "[study.debrief]\nreconsent_required = true"
)


async def test_a_message_too_long_is_given_back_to_shorten(
    browser: Browser, aiohttp_server: Callable[..., Awaitable[TestServer]], tmp_path: Path
) -> None:
    """Past the server's limit per message, the page asks to shorten it and keeps the text."""
    limits = Settings(data=tmp_path / "data", max_message_chars=1024)
    long_message = ("Please read my whole story. " * 40).strip()
    async with (
        start_woz(aiohttp_server, PAGE_STUDY_TOML, limits) as woz,
        phone_page(browser) as page,
    ):
        await page.goto(f"{woz.url}/p/{woz.study.id}")
        await page.get_by_role("checkbox").first.check()
        await page.get_by_role("button", name="I agree, start the chat").click()
        message = page.get_by_label("Message")
        await message.fill(long_message)
        await message.press("Enter")
        await expect(page.locator("#chat-error")).to_have_text(
            "Your message is too long. Please shorten it and try again."
        )
        await expect(message).to_have_value(long_message)


@pytest.mark.parametrize("study_toml", [RECONSENT_TOML], indirect=True)
async def test_busy_assistant_then_reconsent(browser: Browser, woz: Woz) -> None:
    """With nobody to answer, the page says the assistant is busy (never who answers) and
    gives the text back; after the debrief it asks for re-consent and records the answer."""
    async with phone_page(browser) as page:
        await page.goto(f"{woz.url}/p/{woz.study.id}")
        await page.get_by_role("checkbox").first.check()
        await page.get_by_role("button", name="I agree, start the chat").click()
        message = page.get_by_label("Message")
        await message.fill("Anyone there?")
        await message.press("Enter")
        await expect(page.locator("#chat-error")).to_have_text(
            "The assistant is busy right now. Please try again in a moment."
        )
        await expect(message).to_have_value("Anyone there?")
        await expect(page.locator(".msg")).to_have_count(0)
        await chat_turn(page, woz, "Anyone there?", "Yes, hello!")
        await expect(page.locator("#chat-error")).to_be_hidden()

        await page.get_by_role("button", name="End chat").click()
        await page.get_by_role("button", name="No, do not use it").click()
        await expect(page.locator("#reconsent-done")).to_contain_text("will not be used")
        await expect(page.locator("#reconsent")).to_be_hidden()
        [cookie] = [c for c in await page.context.cookies() if c["name"] == "woz_participant"]
    status = await woz.runtime.participants.status(cookie["value"].rpartition(".")[0])
    assert status.debriefed and status.reconsent == "refused"


TITLED_TOML = (
    PAGE_STUDY_TOML
    + """
[participant_page]
title = "Gift helper"
description = "Gift ideas for any budget."
"""
)


@pytest.mark.parametrize(
    "study_toml, title, subtitle",
    [
        (PAGE_STUDY_TOML, "Concierge", ""),
        (TITLED_TOML, "Gift helper", "Gift ideas for any budget."),
    ],
    indirect=["study_toml"],
)
async def test_participants_never_see_the_research_question(
    browser: Browser, woz: Woz, title: str, subtitle: str
) -> None:
    """Under deception every participant page and the page's state show the participant-facing
    title (by default the persona's name), never the study's own title or description."""
    research = (woz.study.title, woz.study.study.description)

    async def shows_only_the_page_title(page: Page) -> None:
        await expect(page).to_have_title(title)
        await expect(page.get_by_role("heading", level=1)).to_have_text(title)
        html = await page.content()
        assert not [text for text in research if text in html], html

    async with phone_page(browser) as page:
        await page.goto(f"{woz.url}/p/{woz.study.id}")
        await expect(page.get_by_role("heading", name="Before you start")).to_be_visible()
        await shows_only_the_page_title(page)
        subtitle_line = page.locator("#page-description")
        if subtitle:
            await expect(subtitle_line).to_have_text(subtitle)
        else:
            await expect(subtitle_line).to_be_hidden()
        state = await page.evaluate(
            "async (path) => (await fetch(path)).text()", f"/p/{woz.study.id}/state"
        )
        assert not [text for text in research if text in state], state
        assert json.loads(state)["study"] == {
            "id": woz.study.id,
            "title": title,
            "description": subtitle,
        }
        await page.get_by_role("checkbox").first.check()
        await page.get_by_role("button", name="I agree, start the chat").click()
        await chat_turn(page, woz, QUESTION, ANSWER)
        await shows_only_the_page_title(page)
        await page.get_by_role("button", name="End chat").click()
        await expect(page.locator("#debrief")).to_contain_text(WHO_WROTE["human"])
        await shows_only_the_page_title(page)
        [cookie] = [c for c in await page.context.cookies() if c["name"] == "woz_participant"]
        await page.goto(f"{woz.url}/woz/p/{cookie['value']}")  # the plain-HTML page
        await expect(page.get_by_role("heading", name="Withdraw")).to_be_visible()
        await shows_only_the_page_title(page)
