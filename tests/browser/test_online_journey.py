"""A whole online study in headless Chromium, as one participant lives it: a Prolific link,
unticked consent, a before-questionnaire, the chat answered by an operator with a thumb on
the answer, the SUS and the manipulation check after it, the debrief, and Prolific's
completion URL with the completion code. The exports then hold that participant's rows."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from playwright.async_api import Browser, expect

from tests.browser.conftest import WAIT_S
from tests.browser.test_online_study import FINISHED, LINK, PROLIFIC, prolific_stand_in
from tests.browser.test_participant_page import phone_page
from tests.conftest import Woz
from tests.integration.test_recruitment import PID, PROLIFIC_TOML
from woz.export import export_dataset
from woz.research.debrief import WHO_WROTE

pytestmark = pytest.mark.browser

JOURNEY_TOML = (
    PROLIFIC_TOML
    + """
[[questionnaires]]
id = "pre"
when = "before"
title = "A few questions first"

[[questionnaires.items]]
id = "shops"
kind = "single"
text = "How often do you shop online?"
options = ["rarely", "monthly", "weekly"]
required = true

[[questionnaires]]
when = "after"
instrument = "sus"

[[questionnaires]]
when = "after"
instrument = "manipulation_check"
"""
)


@pytest.mark.parametrize("study_toml", [JOURNEY_TOML], indirect=True)
async def test_a_prolific_participant_from_link_to_completion_with_questionnaires(
    browser: Browser, woz: Woz, tmp_path: Path
) -> None:
    async with phone_page(browser) as page:
        await prolific_stand_in(page)
        await page.goto(f"{woz.url}/p/{woz.study.id}{LINK}")
        before = page.locator("form.questionnaire")
        for box in await page.get_by_role("checkbox").all():
            await expect(box).not_to_be_checked()
        await page.get_by_role("checkbox").first.check()
        await page.get_by_role("button", name="I agree, start the chat").click()
        await expect(before.get_by_role("heading", name="A few questions first")).to_be_visible()
        await before.get_by_role("radio", name="weekly").check()
        await before.get_by_role("button", name="Continue").click()
        await expect(page.get_by_text("Say hello to Concierge.")).to_be_visible()

        op = await woz.ready_operator()
        await page.get_by_label("Message").fill("A gift for my sister?")
        await page.get_by_label("Message").press("Enter")
        task = await op.next_task()
        await op.reply(task["id"], "Secateurs, she gardens.")
        answer = page.locator(".msg-assistant").last
        await expect(answer.locator(".bubble")).to_have_text("Secateurs, she gardens.")
        good = answer.get_by_role("button", name="Good answer")
        await good.click()
        await expect(good).to_have_attribute("aria-pressed", "true")
        await expect(answer.get_by_role("status")).to_have_text("Thank you for your feedback.")
        [thumb] = await woz.store.list_feedback(woz.study.id)
        assert thumb.rating == 1

        await page.get_by_role("button", name="End chat").click()
        sus = page.locator("form.questionnaire")
        await expect(sus.get_by_role("heading", name="Using the system")).to_be_visible()
        for n in range(10):
            await sus.locator(".item").nth(n).get_by_role("radio", name="Agree", exact=True).check()
        await sus.get_by_role("button", name="Continue").click()
        check = page.locator("form.questionnaire")
        await expect(check.get_by_role("heading", name="About the answers")).to_be_visible()
        await check.get_by_role("radio", name="A person").check()
        await check.get_by_label("How confident are you in your answer? (required)").focus()
        await page.keyboard.press("End")
        await check.get_by_role("button", name="Continue").click()

        await expect(page.locator("#debrief")).to_contain_text(WHO_WROTE["human"])
        await page.get_by_role("button", name="Continue").click()
        await expect(page.get_by_role("heading", name=FINISHED)).to_be_visible()
        await expect(page.locator("#code-value")).to_have_text("C0MPLETE")
        await page.wait_for_url(f"{PROLIFIC}?cc=C0MPLETE", timeout=WAIT_S * 1000)

    pseudonym = woz.runtime.participants.pseudonym_of(PID)
    out = tmp_path / "q"
    await export_dataset(woz.store, woz.study, "questionnaires", "in_study_analysis", out)
    forms = pd.read_csv(out / "questionnaires.csv")
    assert list(forms["participant"]) == [pseudonym]
    assert forms.loc[0, "pre.shops"] == "weekly"
    assert forms.loc[0, "manipulation_check.author"] == "human"
    assert pd.read_parquet(out / "questionnaires.parquet").shape[0] == 1
    out = tmp_path / "t"
    await export_dataset(woz.store, woz.study, "transcripts", "in_study_analysis", out)
    messages = pd.read_parquet(out / "transcripts.parquet")
    assistant = messages[messages["role"] == "assistant"]
    assert list(assistant["text"]) == ["Secateurs, she gardens."]
    assert list(assistant["rating"]) == [1]
