"""The participant page's texts: Markdown built as text nodes (never HTML, even with the
CSP bypassed, against the XSS corpus), and the page's own words in the study's locale."""

from __future__ import annotations

import json

import pytest
from playwright.async_api import Browser, expect

from tests.browser.conftest import WAIT_S
from tests.browser.injection import INJECTION_CHECK, PAYLOADS
from tests.browser.test_participant_page import phone_page
from tests.conftest import Woz
from tests.integration.page_client import PAGE_STUDY_TOML
from woz.research.debrief import WHO_WROTE_IN

HOSTILE_CONSENT = "\n\n".join(
    ["# Before the study", "- **bold** and *soft*", "- [a link](https://example.org/x)"]
    + [f"[click]({p})" for p in PAYLOADS[:20]]
    + PAYLOADS
)


def _hostile_toml() -> str:
    """The page study with the XSS corpus (and some Markdown) as its consent text."""
    head, rest = PAGE_STUDY_TOML.split("[study.consent]", 1)
    _, tail = rest.split("[study.debrief]", 1)
    consent = f'[study.consent]\nversion = "2"\ntext = {json.dumps(HOSTILE_CONSENT)}\n\n'
    return head + consent + "[study.debrief]" + tail


@pytest.mark.parametrize("study_toml", [_hostile_toml()], indirect=True)
async def test_markdown_is_built_as_text_even_without_the_csp(browser: Browser, woz: Woz) -> None:
    """With the CSP bypassed, the consent text (Markdown and every payload) and an answer
    full of payloads make headings, lists and https links only; nothing runs."""
    context = await browser.new_context(bypass_csp=True)
    context.set_default_timeout(WAIT_S * 1000)
    try:
        page = await context.new_page()
        await page.goto(f"{woz.url}/p/{woz.study.id}")
        consent = page.locator("#consent-text")
        await expect(consent.get_by_role("heading", name="Before the study")).to_be_visible()
        await expect(consent.locator("li strong")).to_have_text("bold")
        await expect(consent.get_by_role("link", name="a link")).to_have_attribute(
            "rel", "noopener noreferrer"
        )
        await page.get_by_role("checkbox").first.check()
        await page.get_by_role("button", name="I agree, start the chat").click()
        op = await woz.ready_operator()
        await page.get_by_label("Message").fill("Show me")
        await page.get_by_label("Message").press("Enter")
        task = await op.next_task()
        await op.reply(task["id"], "\n\n".join(PAYLOADS))
        await expect(page.locator(".msg-assistant .bubble")).to_contain_text(PAYLOADS[-1][:20])
        result = await page.evaluate(INJECTION_CHECK)
        links = await page.eval_on_selector_all("a[href]", "els => els.map(a => a.href)")
        # The page's own forms: the composer, and each answer's feedback comment.
        forms = await page.eval_on_selector_all(
            "form:not(.feedback-comment)", "els => els.map(f => f.id)"
        )
    finally:
        await context.close()
    assert all(link.startswith(("https:", "http:", "mailto:")) for link in links), links
    assert forms == ["composer"]  # the page's own
    assert sorted(result["foreign"]) == ["A"] * len(links) + ["FORM"]
    assert {k: v for k, v in result.items() if k != "foreign"} == {
        "xss": None,
        "scripts": 1,
        "handlers": [],
        "images": [],
        "media": [],
    }


FRENCH_TOML = PAGE_STUDY_TOML + '\n[participant_page]\nlocale = "fr"\n'


@pytest.mark.parametrize("study_toml", [FRENCH_TOML], indirect=True)
async def test_the_page_speaks_the_studys_locale(browser: Browser, woz: Woz) -> None:
    """`locale = "fr"`: the page's own words in French, the document's language too."""
    async with phone_page(browser) as page:
        await page.goto(f"{woz.url}/p/{woz.study.id}")
        await expect(page.get_by_role("heading", name="Avant de commencer")).to_be_visible()
        await expect(page.locator("html")).to_have_attribute("lang", "fr")
        agree = page.get_by_role("button", name="J’accepte, commencer la discussion")
        await expect(agree).to_be_disabled()
        await expect(page.locator("#consent-hint")).to_contain_text(
            "Pour participer, cochez « l’analyse par l’équipe de recherche pour cette étude »"
        )
        await page.get_by_role("checkbox").first.check()
        await agree.click()
        await expect(page.get_by_text("Dites bonjour à Concierge.")).to_be_visible()
        await expect(page.get_by_role("button", name="Terminer")).to_be_visible()
        await page.get_by_role("button", name="Terminer").click()
        await expect(page.get_by_role("heading", name="À propos de cette étude")).to_be_visible()
        await expect(page.locator("#debrief-disclosure")).to_have_text(WHO_WROTE_IN["fr"]["human"])
        await expect(page.get_by_role("button", name="Continuer")).to_be_visible()
