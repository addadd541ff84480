"""The watch view's session archive in Chromium: past sessions filtered, one opened as a
timeline with its typing replayed, its thumbs, its wizard-error flag and its answers."""

from __future__ import annotations

from datetime import UTC, datetime

import openai
import pytest
from playwright.async_api import Browser, expect

from tests.browser.conftest import finish, open_console
from tests.conftest import STUDY_TOML, Woz, ask
from woz.auth.tokens import create_key
from woz.models.questionnaire import Feedback, QuestionnaireAnswers

pytestmark = pytest.mark.browser

WITH_SUS = STUDY_TOML + '\n[[questionnaires]]\nwhen = "after"\ninstrument = "sus"\n'


async def exchange(
    woz: Woz, client: openai.AsyncOpenAI, who: str, question: str, drafts: list[str], reply: str
) -> str:
    """One answered request of participant `who`, typed through `drafts`; the record id."""
    operator = await woz.online_operator()
    pending = ask(client, question, extra_headers={"X-Woz-Participant": who})
    task = await operator.next_task()
    for draft in drafts:
        await operator.typing(task["id"], draft)
    await operator.reply(task["id"], reply)
    await finish(pending)
    return "rec_" + str(task["id"]).removeprefix("task_")


@pytest.mark.parametrize("study_toml", [WITH_SUS], indirect=True)
async def test_a_past_session_is_found_and_replayed(
    browser: Browser, woz: Woz, openai_client: openai.AsyncOpenAI
) -> None:
    _, token = await create_key(woz.store, woz.study.id, "researcher", "Rita")
    ada = woz.runtime.participants.pseudonym_of("ada")
    first = await exchange(
        woz, openai_client, "ada", "A wine for fish?", ["A", "A Mus", "A Muscadet"], "A Muscadet."
    )
    second = await exchange(woz, openai_client, "bo", "And for cheese?", [], "Port.")
    now = datetime.now(UTC)
    await woz.store.mark_read(woz.study.id, first, ada, now)
    await woz.store.set_wizard_error(woz.study.id, second, "answered off-script")
    await woz.store.save_feedback(
        Feedback(
            study_id=woz.study.id,
            record_id=first,
            participant=ada,
            rating=1,
            comment="spot on",
            at=now,
        )
    )
    sus = {f"sus_{n}": 4 for n in range(1, 11)}
    await woz.store.save_answers(
        QuestionnaireAnswers(
            study_id=woz.study.id, participant=ada, questionnaire="sus", when="after",
            arm=None, answers=sus, submitted_at=now,
        )
    )  # fmt: skip

    async with open_console(browser, woz) as watcher:
        page = watcher.page
        await page.goto(f"{woz.url}/watch/login?token={token}")
        sessions = page.locator("#sessions .session-item")
        await expect(sessions).to_have_count(2)
        await expect(page.locator("#archive-status")).to_have_text("2 sessions.")

        await page.locator("#filter-status").select_option("wizard_error")
        await page.get_by_role("button", name="Show sessions").click()
        await expect(sessions).to_have_count(1)
        await expect(sessions.first).to_contain_text("And for cheese?")
        await page.locator("#filter-status").select_option("")
        await page.locator("#filter-participant").fill(ada)
        await page.locator("#filter-participant").press("Enter")
        await expect(sessions).to_have_count(1)
        await expect(sessions.first).to_contain_text("👍 1")
        await page.locator("#filter-participant").fill("")
        await page.locator("#filter-from").fill("2001-01-01")
        await page.locator("#filter-to").fill("2001-12-31")
        await page.get_by_role("button", name="Show sessions").click()
        await expect(page.locator("#archive-status")).to_have_text("No session matches.")
        await page.locator("#filter-from").fill(now.date().isoformat())
        await page.locator("#filter-to").fill("")
        await page.get_by_role("button", name="Show sessions").click()
        await expect(sessions).to_have_count(2)

        await (
            sessions.filter(has_text="A wine for fish?")
            .get_by_role("button", name="Open the session")
            .click()
        )
        detail = page.locator("#session")
        await expect(detail.get_by_role("heading", name=f"Session of {ada}")).to_be_focused()
        step = detail.locator(".step")
        await expect(step).to_have_count(1)
        await expect(step.locator(".said")).to_have_text("A wine for fish?")
        await expect(step.locator(".answer")).to_have_text("A Muscadet.")
        for label in (
            "received",
            "taken up",
            "first keystroke",
            "answered",
            "delivered to the participant",
            "read",
        ):
            await expect(step.locator(f"dt:text-is('{label}')")).to_have_count(1)
        await expect(step.locator("dt:text-is('first keystroke') + dd")).to_contain_text("+")
        await expect(step.locator("dt:text-is('read') + dd")).to_contain_text("+")
        await expect(step.locator(".rating")).to_contain_text("good (“spot on”)")
        await step.get_by_role("button", name="Replay the typing").click()
        await expect(step.locator(".typing-screen")).to_have_text("A Muscadet")
        await expect(step.get_by_role("button", name="Replay the typing")).to_be_visible()
        table = detail.locator(".answers")
        await expect(table.locator("tr", has_text="sus.score")).to_contain_text("50")
        await expect(table.get_by_role("row", name="sus_1 4", exact=True)).to_be_visible()

        await (
            sessions.filter(has_text="And for cheese?")
            .get_by_role("button", name="Open the session")
            .click()
        )
        await expect(detail.locator(".flag-problem")).to_have_text(
            "Wizard error: answered off-script"
        )
        await expect(detail).to_contain_text("No questionnaire answered.")
