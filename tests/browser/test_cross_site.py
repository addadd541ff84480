"""A page on another port of the same host, in the browser that holds woz's cookies, cannot act.

SameSite=Strict treats 127.0.0.1 on any port as the same site, so the researcher's,
operator's and participant's cookies go with every request the attacker's page makes.
Each state-changing call is tried the ways a page can without woz's consent: a
`no-cors` fetch with a text/plain body (no preflight), a JSON fetch (which needs a
preflight woz never grants) and an HTML form posting text/plain. The server refuses,
and nothing changes.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import openai
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from playwright.async_api import Browser, Page, expect

from tests.browser.conftest import VIEWPORT, WAIT_S
from tests.conftest import Woz
from tests.integration.page_client import PAGE_STUDY_TOML
from tests.integration.test_watch import answered_record, researcher_token
from woz.auth.tokens import create_key
from woz.models.pseudonyms import tombstone_of

pytestmark = pytest.mark.browser

ATTACKER_HTML = "<!doctype html><html><title>You won a prize</title><body></body></html>"

NO_CORS_FETCH = """async ([url, body]) => {
    await fetch(url, {method: "POST", mode: "no-cors", credentials: "include",
                      headers: {"Content-Type": "text/plain"}, body});
}"""
JSON_FETCH = """async ([url, body]) => {
    try {
        const response = await fetch(url, {
            method: "POST", credentials: "include", body,
            headers: {"Content-Type": "application/json", "X-Woz-Page": "1"},
        });
        return `read ${response.status}`;
    } catch (error) {
        return error.name;
    }
}"""
# A text/plain form sends `name=value`: the name opens a JSON object, the value closes it.
TEXT_PLAIN_FORM = """([url, name, value]) => {
    const form = document.createElement("form");
    form.method = "POST";
    form.action = url;
    form.enctype = "text/plain";
    const field = document.createElement("input");
    field.name = name;
    field.value = value;
    form.append(field);
    document.body.append(form);
    form.submit();
}"""
OPEN_SOCKET = """(url) => new Promise((resolve) => {
    const socket = new WebSocket(url);
    socket.onopen = () => { socket.close(); resolve("opened"); };
    socket.onerror = () => resolve("refused");
})"""


@pytest.fixture
async def attacker(
    aiohttp_server: Callable[..., Awaitable[TestServer]],
) -> AsyncIterator[str]:
    """The URL of a page served from another port of 127.0.0.1."""

    async def prize(request: web.Request) -> web.Response:
        return web.Response(text=ATTACKER_HTML, content_type="text/html")

    app = web.Application()
    app.router.add_get("/", prize)
    server = await aiohttp_server(app)
    yield str(server.make_url("/"))


@pytest.fixture
async def page(browser: Browser) -> AsyncIterator[Page]:
    context = await browser.new_context(viewport=VIEWPORT)  # type: ignore[arg-type]
    context.set_default_timeout(WAIT_S * 1000)
    try:
        yield await context.new_page()
    finally:
        await context.close()


async def log_in(page: Page, login_url: str) -> None:
    """Follow a login link in the page's browser context: its cookie is set there."""
    response = await page.context.request.get(login_url, max_redirects=0)
    assert response.status == 302


async def forge(page: Page, attacker: str, url: str, body: dict[str, Any]) -> None:
    """Every way the attacker's page tries `body` on `url`; each one must be refused."""
    await page.goto(attacker)
    sent = json.dumps(body)
    async with page.expect_response(lambda r: r.url == url) as caught:
        await page.evaluate(NO_CORS_FETCH, [url, sent])
    refused = await caught.value  # opaque to the page; its body is out of reach here too
    assert (refused.request.method, refused.status) == ("POST", 403)
    # Without a CORS grant from woz the preflight fails: the POST is never sent.
    assert await page.evaluate(JSON_FETCH, [url, sent]) == "TypeError"
    name, value = (sent[:-2], sent[-2:]) if body else ("{}", "")
    async with page.expect_navigation(url=url) as navigated:
        await page.evaluate(TEXT_PLAIN_FORM, [url, name, value])
    response = await navigated.value
    assert response is not None and response.request.method == "POST"
    shown = await page.locator("body").inner_text()  # the browser shows woz's JSON
    assert (response.status, json.loads(shown)["error"]["code"]) == (403, "cross_site_request")


async def test_another_page_cannot_act_as_the_researcher_or_the_operator(
    page: Page, woz: Woz, attacker: str, openai_client: openai.AsyncOpenAI
) -> None:
    """No forged note reaches an operator, no record is flagged, no console socket opens."""
    record_id = await answered_record(woz, openai_client)
    operator = await woz.make_operator()
    _, console_token = await create_key(woz.store, woz.study.id, "operator", "Otto")
    await log_in(page, f"{woz.url}/watch/login?token={await researcher_token(woz)}")
    await log_in(page, f"{woz.url}/console/login?token={console_token}")

    await forge(page, attacker, f"{woz.url}/watch/notice", {"text": "Forged note"})
    flag = f"{woz.url}/watch/records/{record_id}/wizard-error"
    await forge(page, attacker, flag, {"note": "forged flag"})
    await page.goto(attacker)
    socket = woz.url.replace("http", "ws", 1) + "/operator/ws"
    assert await page.evaluate(OPEN_SOCKET, socket) == "refused"

    stored = await woz.store.get_record(record_id)
    assert stored is not None and stored.wizard_error is None
    assert len(woz.runtime.connections) == 1  # the scripted operator only
    audit = [e.action for e in await woz.store.list_audit(woz.study.id)]
    assert not [a for a in audit if a.startswith(("operators.", "record."))], audit

    # The researcher's own page still sends; its note is the first the operator hears.
    await page.goto(f"{woz.url}/watch/")
    await expect(page.locator("#operators")).to_contain_text("Olive")
    await page.locator("#notice-text").fill("A real note.")
    await page.locator("#notice-text").press("Enter")
    await expect(page.locator("#notice-result")).to_have_text("Sent to 1 operator.")
    assert (await operator.expect("notice"))["text"] == "A real note."


@pytest.mark.parametrize("study_toml", [PAGE_STUDY_TOML], indirect=True)
async def test_another_page_cannot_act_as_the_participant(
    page: Page, woz: Woz, attacker: str
) -> None:
    """No consent, chat, debrief, reconsent or withdrawal is taken from another page."""
    await woz.ready_operator()
    await page.goto(f"{woz.url}/p/{woz.study.id}")
    state = await (await page.context.request.get(f"{woz.url}/p/{woz.study.id}/state")).json()
    consent = state["consent"]
    base = f"{woz.url}/p/{woz.study.id}"
    actions: list[tuple[str, dict[str, Any]]] = [
        (
            "consent",
            {
                "version": consent["version"],
                "text_sha256": consent["text_sha256"],
                "scopes": ["in_study_analysis"],
            },
        ),
        (
            "chat/completions",
            {"model": "concierge", "messages": [{"role": "user", "content": "Hi"}]},
        ),
        ("end", {}),
        ("reconsent", {"granted": False}),
        ("withdraw", {}),
    ]
    for path, body in actions:
        await forge(page, attacker, f"{base}/{path}", body)

    [cookie] = [c for c in await page.context.cookies() if c["name"] == "woz_participant"]
    participant = cookie["value"].rpartition(".")[0]
    status = await woz.runtime.participants.status(participant)
    assert status.consent is None and not status.withdrawn and not status.debriefed
    assert await woz.store.list_consents(woz.study.id) == []
    assert await woz.store.list_disclosures(woz.study.id, tombstone_of(participant)) == []
    assert (await woz.runtime.dispatcher.status()).waiting == 0
    assert await woz.store.list_records(woz.study.id) == []

    # The page itself still works.
    await page.goto(base)
    boxes = page.get_by_role("checkbox")
    await expect(boxes).to_have_count(2)
    await boxes.nth(0).check()
    await page.get_by_role("button", name="I agree, start the chat").click()
    await expect(page.get_by_text("Say hello to Concierge.")).to_be_visible()
    assert len(await woz.store.list_consents(woz.study.id)) == 1
