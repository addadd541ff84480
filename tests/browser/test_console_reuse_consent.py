"""An operator reads the study's reuse agreement in the console and says what their
answers may be used for; the store keeps it, and the console remembers it."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from tests.browser.conftest import Console
from tests.conftest import STUDY_TOML, with_values

pytestmark = pytest.mark.browser

AGREEMENT = (
    with_values(
        STUDY_TOML, {"study.permitted_uses": '["in_study_analysis", "internal_model_training"]'}
    )
    + """
[labor.reuse_agreement]
version = "3"
text = "My answers may be reused as I tick. <b>Not bold</b>"
"""
)


@pytest.mark.parametrize("study_toml", [AGREEMENT], indirect=True)
async def test_operator_consents_in_the_console_and_can_change_it(console: Console) -> None:
    """The agreement opens at login; ticking one use and agreeing records exactly that."""
    page = console.page
    woz = console.woz
    await console.login()
    dialog = page.locator(".agreement-overlay")
    await expect(dialog).to_be_visible()
    await expect(dialog.locator(".agreement-text")).to_have_text(
        "My answers may be reused as I tick. <b>Not bold</b>"
    )
    await expect(dialog).to_contain_text("Version 3")
    analysis = dialog.get_by_label("Analysis within this study")
    await expect(analysis).to_be_focused()
    await page.keyboard.press("Space")
    await expect(
        dialog.get_by_label("Training models within the research organisation")
    ).not_to_be_checked()
    await dialog.get_by_role("button", name="Agree to the ticked uses").click()
    await expect(dialog).to_be_hidden()
    await expect(page.locator(".notice-success")).to_contain_text("consent was recorded")
    reuse = page.locator(".reuse-info")
    await expect(reuse).to_have_text("Reuse of your answers: Analysis within this study")
    [consent] = await woz.store.list_operator_consents(woz.study.id)
    assert consent.scopes == ["in_study_analysis"] and consent.version == "3"
    assert consent.method == "console" and consent.subject.startswith("op_")

    await page.reload()
    await expect(page.locator(".pill-open")).to_be_visible()
    await expect(reuse).to_have_text("Reuse of your answers: Analysis within this study")
    await expect(dialog).to_be_hidden()  # already answered: not asked again

    await reuse.click()
    await expect(dialog).to_be_visible()
    await expect(analysis).to_be_checked()
    await analysis.uncheck()
    await dialog.get_by_role("button", name="Agree to the ticked uses").click()
    await expect(reuse).to_have_text("Reuse of your answers: none")
    consents = await woz.store.list_operator_consents(woz.study.id)
    assert [c.scopes for c in consents] == [["in_study_analysis"], []]
    assert not console.page_errors


@pytest.mark.parametrize("study_toml", [AGREEMENT], indirect=True)
async def test_decide_later_closes_the_agreement_and_work_goes_on(console: Console) -> None:
    """Escape (or Decide later) leaves the consent unrecorded; the sidebar says so."""
    page = console.page
    await console.login()
    dialog = page.locator(".agreement-overlay")
    await expect(dialog).to_be_visible()
    await page.keyboard.press("Escape")
    await expect(dialog).to_be_hidden()
    await expect(page.locator(".reuse-info")).to_have_text("Reuse of your answers: not agreed")
    await console.ready()
    assert await console.woz.store.list_operator_consents(console.woz.study.id) == []


async def test_without_an_agreement_nothing_is_asked(console: Console) -> None:
    """A study with no reuse agreement shows neither the dialog nor the sidebar line."""
    await console.login()
    await expect(console.page.locator(".agreement-overlay")).to_be_hidden()
    await expect(console.page.locator(".reuse-info")).to_be_hidden()
