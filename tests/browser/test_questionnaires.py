"""Questionnaires and thumbs on the participant page, as a participant uses them.

A before-questionnaire of the study's own items is answered from the keyboard
alone after the page refused it with a required item missing; an answer in the
chat gets a thumb and a comment; ending the chat asks the SUS and the
manipulation check before the debrief. What the store keeps is checked after.
"""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, Page, expect

from tests.browser.test_participant_page import chat_turn, phone_page
from tests.conftest import Woz
from tests.integration.page_client import PAGE_STUDY_TOML

pytestmark = pytest.mark.browser

QUESTIONNAIRES = """
[[questionnaires]]
id = "pre"
when = "before"
title = "A few questions first"
intro = "This takes a minute."

[[questionnaires.items]]
id = "mood"
kind = "likert"
text = "How is your day going?"
points = ["Badly", "So-so", "Well"]
required = true

[[questionnaires.items]]
id = "warmth"
kind = "slider"
text = "How warm do you feel towards chatbots?"
min_label = "Cold"
max_label = "Warm"
required = true

[[questionnaires.items]]
id = "pets"
kind = "multiple"
text = "Which pets do you have?"
options = ["cat", "dog", "fish"]

[[questionnaires.items]]
id = "note"
kind = "short_text"
text = "Anything to add?"

[[questionnaires]]
when = "after"
instrument = "sus"

[[questionnaires]]
when = "after"
instrument = "manipulation_check"
"""
STUDY = PAGE_STUDY_TOML + QUESTIONNAIRES


async def consent(page: Page, woz: Woz) -> None:
    await page.goto(f"{woz.url}/p/{woz.study.id}")
    await page.get_by_role("checkbox").first.check()
    await page.get_by_role("button", name="I agree, start the chat").click()


@pytest.mark.parametrize("study_toml", [STUDY], indirect=True)
async def test_questionnaires_before_and_after_with_feedback_between(
    browser: Browser, woz: Woz
) -> None:
    """Required items hold the form back and say so; the keyboard alone fills it; a thumb and
    its comment are kept against the answer; SUS and the manipulation check come after."""
    async with phone_page(browser) as page:
        await consent(page, woz)
        form = page.locator("form.questionnaire")
        await expect(form.get_by_role("heading", name="A few questions first")).to_be_focused()
        mood = form.get_by_role("group", name="How is your day going? (required)")
        await expect(mood.get_by_role("radio")).to_have_count(3)
        await form.get_by_role("button", name="Continue").click()
        await expect(form.get_by_role("alert")).to_have_text(
            "Some required questions are not answered yet."
        )
        await expect(mood.get_by_role("radio", name="Badly")).to_be_focused()
        await expect(form.locator("[data-item=mood] .item-error")).to_be_visible()
        await expect(form.locator("[data-item=warmth] .item-error")).to_contain_text("slider")
        assert await woz.store.list_answers(woz.study.id) == []

        keys = page.keyboard
        await keys.press("Space")  # Badly
        await keys.press("ArrowRight")  # So-so
        await keys.press("Tab")
        slider = form.get_by_label("How warm do you feel towards chatbots? (required)")
        await expect(slider).to_be_focused()
        for _ in range(3):
            await keys.press("ArrowRight")
        await keys.press("Tab")
        await keys.press("Space")  # cat
        await keys.press("Tab")
        await keys.press("Tab")
        await keys.press("Space")  # fish
        await keys.press("Tab")
        await expect(form.get_by_label("Anything to add?")).to_be_focused()
        await keys.type("Nothing, thanks")
        await keys.press("Enter")
        await expect(page.get_by_text("Say hello to Concierge.")).to_be_visible()

        async with page.expect_response(lambda r: r.url.endswith("/read")) as read:
            await chat_turn(page, woz, "Hello?", "Hello! How can I help?")
        assert (await read.value).status == 201
        answer = page.locator(".msg-assistant").last
        down = answer.get_by_role("button", name="Bad answer")
        await down.click()
        await expect(down).to_have_attribute("aria-pressed", "true")
        await expect(answer.get_by_role("status")).to_have_text("Thank you for your feedback.")
        await answer.get_by_label("Tell us more (optional)").fill("Too short")
        async with page.expect_response(lambda r: r.url.endswith("/feedback")) as sent:
            await answer.get_by_role("button", name="Send").click()
        assert (await sent.value).status == 201
        [thumb] = await woz.store.list_feedback(woz.study.id)
        assert (thumb.rating, thumb.comment) == (-1, "Too short")

        await page.get_by_role("button", name="End chat").click()
        sus = page.locator("form.questionnaire")
        await expect(sus.get_by_role("heading", name="Using the system")).to_be_visible()
        await expect(sus.get_by_text("Questionnaire 1 of 2")).to_be_visible()
        for n in range(10):
            group = sus.locator(".item").nth(n)
            await group.get_by_role(
                "radio", name="Agree" if n % 2 == 0 else "Disagree", exact=True
            ).check()
        await sus.get_by_role("button", name="Continue").click()
        check = page.locator("form.questionnaire")
        await expect(check.get_by_role("heading", name="About the answers")).to_be_visible()
        await check.get_by_role("radio", name="An AI").check()
        confidence = check.get_by_label("How confident are you in your answer? (required)")
        await confidence.focus()
        await keys.press("End")
        await check.get_by_role("button", name="Continue").click()
        await expect(page.locator("#debrief")).to_be_visible()

    before, sus_answers, manipulation = await woz.store.list_answers(woz.study.id)
    assert before.questionnaire == "pre" and before.when == "before"
    assert before.answers == {
        "mood": 2,
        "warmth": 53,
        "pets": ["cat", "fish"],
        "note": "Nothing, thanks",
    }
    assert sus_answers.answers == {f"sus_{n}": 4 if n % 2 else 2 for n in range(1, 11)}
    assert manipulation.answers == {"author": "ai", "confidence": 100}
    [thumb] = await woz.store.list_feedback(woz.study.id)
    assert thumb.rating == -1 and thumb.participant == before.participant
    actions = [e.action for e in await woz.store.list_audit(woz.study.id)]
    assert actions.count("questionnaire.submitted") == 3 and "feedback.given" in actions


@pytest.mark.parametrize("study_toml", [STUDY], indirect=True)
async def test_a_questionnaire_answered_is_not_asked_again(browser: Browser, woz: Woz) -> None:
    """After a reload, the before-questionnaire already submitted leads straight to the chat."""
    async with phone_page(browser) as page:
        await consent(page, woz)
        form = page.locator("form.questionnaire")
        await form.get_by_role("radio", name="Well").check()
        await form.get_by_role("slider").focus()
        await page.keyboard.press("Home")
        await form.get_by_role("button", name="Continue").click()
        await expect(page.get_by_text("Say hello to Concierge.")).to_be_visible()
        await page.reload()
        await expect(page.get_by_text("Say hello to Concierge.")).to_be_visible()
        await expect(page.locator("form.questionnaire")).to_have_count(0)
    [kept] = await woz.store.list_answers(woz.study.id)
    assert kept.answers == {"mood": 3, "warmth": 0}
