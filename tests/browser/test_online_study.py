"""An online study in headless Chromium: from a Prolific link to Prolific's completion URL,
a refusal's screen-out code, a participant coming back, the page inside a survey's frame
(allowed and refused), and the time limit."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from playwright.async_api import Browser, BrowserContext, Frame, Page, Route, expect

from tests.browser.conftest import WAIT_S
from tests.browser.test_participant_page import chat_turn, phone_page
from tests.conftest import Woz, start_woz
from tests.integration.page_client import PAGE_STUDY_TOML
from tests.integration.test_recruitment import PID, PROLIFIC_TOML
from woz.research.debrief import WHO_WROTE

pytestmark = pytest.mark.browser

LINK = f"?PROLIFIC_PID={PID}&STUDY_ID=st-1&SESSION_ID=sess-1"
PROLIFIC = "https://app.prolific.com/submissions/complete"
ANALYSIS = "analysis by the research team for this study"
FINISHED = "Thank you, you have finished"


async def prolific_stand_in(page: Page) -> None:
    """Prolific's completion page, outside the project: answered in the browser."""

    async def fulfil(route: Route) -> None:
        await route.fulfill(status=200, content_type="text/html", body="<title>Prolific</title>")

    await page.route(f"{PROLIFIC}*", fulfil)


async def consent(page: Page | Frame, ticks: tuple[str, ...] = (ANALYSIS,)) -> None:
    await expect(page.get_by_role("heading", name="Before you start")).to_be_visible()
    for box in await page.get_by_role("checkbox").all():
        await expect(box).not_to_be_checked()
    for label in ticks:
        await page.get_by_role("checkbox", name=label).check()
    await page.get_by_role("button", name="I agree, start the chat").click()
    await expect(page.get_by_text("Say hello to Concierge.")).to_be_visible()


@pytest.mark.parametrize("study_toml", [PROLIFIC_TOML], indirect=True)
async def test_from_a_prolific_link_to_the_completion_url(browser: Browser, woz: Woz) -> None:
    """Unticked consent (an optional use declined), the chat answered by an operator, the
    debrief, the code, and Prolific's completion URL with `cc=`."""
    async with phone_page(browser) as page:
        await prolific_stand_in(page)
        await page.goto(f"{woz.url}/p/{woz.study.id}{LINK}")
        await consent(page)  # excerpts in publications declined: still taking part
        op = await woz.ready_operator()
        await page.get_by_label("Message").fill("A *gift* for my sister?")
        await page.get_by_label("Message").press("Enter")
        task = await op.next_task()
        assert task["participant"] == woz.runtime.participants.pseudonym_of(PID)
        await op.reply(task["id"], "**Secateurs**, see [this](https://example.org). <b>x</b>")
        answer = page.locator(".msg-assistant .bubble").last
        await expect(answer).to_have_text("Secateurs, see this. <b>x</b>")  # Markdown, no HTML
        await expect(answer.locator("strong")).to_have_text("Secateurs")
        link = answer.get_by_role("link", name="this")
        await expect(link).to_have_attribute("target", "_blank")
        await expect(link).to_have_attribute("rel", "noopener noreferrer")
        await expect(page.locator(".msg-user .bubble").last).to_have_text("A *gift* for my sister?")

        await page.get_by_role("button", name="End chat").click()
        await expect(page.locator("#debrief")).to_contain_text(WHO_WROTE["human"])
        await page.get_by_role("button", name="Continue").click()
        await expect(page.get_by_role("heading", name=FINISHED)).to_be_visible()
        await expect(page.locator("#code-value")).to_have_text("C0MPLETE")
        await page.wait_for_url(f"{PROLIFIC}?cc=C0MPLETE", timeout=WAIT_S * 1000)
    [consent_record] = await woz.store.list_consents(woz.study.id)
    assert consent_record.scopes == ["in_study_analysis"]


@pytest.mark.parametrize("study_toml", [PROLIFIC_TOML], indirect=True)
async def test_refusing_consent_returns_with_the_screen_out_code(
    browser: Browser, woz: Woz
) -> None:
    """ "I do not agree" ends politely and sends the participant back with NOCONSENT."""
    async with phone_page(browser) as page:
        await prolific_stand_in(page)
        await page.goto(f"{woz.url}/p/{woz.study.id}{LINK}")
        await page.get_by_role("button", name="I do not agree").click()
        await expect(page.get_by_role("heading", name="You are not taking part")).to_be_visible()
        await expect(page.locator("#code-value")).to_have_text("NOCONSENT")
        await page.wait_for_url(f"{PROLIFIC}?cc=NOCONSENT", timeout=WAIT_S * 1000)
    assert await woz.store.list_consents(woz.study.id) == []


@pytest.mark.parametrize("study_toml", [PROLIFIC_TOML], indirect=True)
async def test_a_returning_participant_resumes_then_is_told_they_finished(
    browser: Browser, woz: Woz
) -> None:
    """The same link in a new browser shows the conversation so far and carries on; after
    completion it says so and shows the code again."""
    async with phone_page(browser) as page:
        await page.goto(f"{woz.url}/p/{woz.study.id}{LINK}")
        await consent(page)
        await chat_turn(page, woz, "Is the shop open?", "Until six.")
    async with phone_page(browser) as page:
        await prolific_stand_in(page)
        await page.goto(f"{woz.url}/p/{woz.study.id}{LINK}")
        await expect(page.locator(".msg-user .bubble")).to_have_text(["Is the shop open?"])
        await expect(page.locator(".msg-assistant .bubble")).to_have_text(["Until six."])
        task = await chat_turn(page, woz, "And tomorrow?", "From nine.")
        assert [(m["role"], m["content"][0]["text"]) for m in task["messages"]] == [
            ("user", "Is the shop open?"),
            ("assistant", "Until six."),
            ("user", "And tomorrow?"),
        ]
        await page.get_by_role("button", name="End chat").click()
        await page.get_by_role("button", name="Continue").click()
        await page.wait_for_url(f"{PROLIFIC}?cc=C0MPLETE", timeout=WAIT_S * 1000)
    async with phone_page(browser) as page:
        await page.goto(f"{woz.url}/p/{woz.study.id}{LINK}")
        await expect(page.locator("#done-again")).to_have_text(
            "You have already taken part in this study, so you cannot take it again."
        )
        await expect(page.locator("#code-value")).to_have_text("C0MPLETE")
        await expect(page.get_by_role("link", name="Return to Prolific")).to_have_attribute(
            "href", f"{PROLIFIC}?cc=C0MPLETE"
        )


PARENT_HTML = """<!doctype html><html><head><title>Survey</title></head><body>
<h1>Survey question</h1>
<iframe id="woz" src="{src}" width="420" height="700"></iframe>
<script>
  window.wozEvents = [];
  window.addEventListener("message", (event) => {{
    if (event.data && event.data.type === "woz") {{
      window.wozEvents.push({{origin: event.origin, ...event.data}});
    }}
  }});
</script></body></html>"""


@asynccontextmanager
async def survey_site(
    aiohttp_server: Callable[..., Awaitable[TestServer]], woz_url: Callable[[], str]
) -> AsyncIterator[TestServer]:
    """A survey's page, served from another origin, that frames the participant page."""

    async def page(_: web.Request) -> web.Response:
        return web.Response(text=PARENT_HTML.format(src=woz_url()), content_type="text/html")

    app = web.Application()
    app.router.add_get("/survey", page)
    server = await aiohttp_server(app, host="127.0.0.1")
    yield server


@asynccontextmanager
async def framed_study(
    aiohttp_server: Callable[..., Awaitable[TestServer]], allowed: bool
) -> AsyncIterator[tuple[Woz, str]]:
    """A woz that allows (or not) a survey site to frame its page; the survey's URL.

    The survey is reached as `localhost` and woz as `127.0.0.1`: two sites, so the page
    in the frame is third-party and gets no SameSite cookie."""
    target: dict[str, str] = {}
    async with survey_site(aiohttp_server, lambda: target["src"]) as survey:
        parent = f"http://localhost:{survey.port}"
        allow = parent if allowed else "https://survey.example.org"
        toml = PAGE_STUDY_TOML + f'\n[embedding]\nallow = ["{allow}"]\n'
        async with start_woz(aiohttp_server, toml) as woz:
            target["src"] = f"{woz.url}/p/{woz.study.id}?pid=R_abc123"
            yield woz, f"{parent}/survey"


async def survey_page(context: BrowserContext) -> tuple[Page, list[str]]:
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    return page, errors


async def test_inside_an_allowed_survey_frame_the_parent_hears_the_session(
    browser: Browser, aiohttp_server: Callable[..., Awaitable[TestServer]]
) -> None:
    """Framed by an allowed origin, with no third-party cookie, the page runs the whole
    session and posts started, message and ended to the survey, and only to it."""
    async with framed_study(aiohttp_server, allowed=True) as (woz, survey_url):
        context = await browser.new_context()
        context.set_default_timeout(WAIT_S * 1000)
        try:
            page, errors = await survey_page(context)
            await page.goto(survey_url)
            frame = page.frame_locator("#woz")
            await consent(frame)  # type: ignore[arg-type]
            op = await woz.ready_operator()
            await frame.get_by_label("Message").fill("Hello from the survey")
            await frame.get_by_label("Message").press("Enter")
            task = await op.next_task()
            await op.reply(task["id"], "Hello, survey taker.")
            await expect(frame.locator(".msg-assistant .bubble")).to_have_text(
                ["Hello, survey taker."]
            )
            await frame.get_by_role("button", name="End chat").click()
            await frame.get_by_role("button", name="Continue").click()
            await expect(frame.get_by_role("heading", name=FINISHED)).to_be_visible()
            await page.wait_for_function("window.wozEvents.some(e => e.event === 'ended')")
            events: list[dict[str, Any]] = await page.evaluate("window.wozEvents")
            cookies = await context.cookies()
            assert errors == []
        finally:
            await context.close()
        participant = woz.runtime.participants.pseudonym_of("R_abc123")
        assert task["participant"] == participant
        assert [e["event"] for e in events] == ["started", "message", "ended"]
        assert {(e["origin"], e["participant"]) for e in events} == {(woz.url, participant)}
        [record] = await woz.store.list_records(woz.study.id)
        assert {e["session"] for e in events} == {record.conversation_id}
        # Nothing rode on a cookie: the third-party frame got none to send back.
        assert [c["name"] for c in cookies if c["name"] == "woz_participant"] == []


async def test_a_survey_not_on_the_allow_list_cannot_frame_the_page(
    browser: Browser, aiohttp_server: Callable[..., Awaitable[TestServer]]
) -> None:
    """From an origin not in `[embedding] allow` the browser refuses to show the page."""
    async with framed_study(aiohttp_server, allowed=False) as (woz, survey_url):
        context = await browser.new_context()
        context.set_default_timeout(WAIT_S * 1000)
        try:
            page, _ = await survey_page(context)
            async with page.expect_response(lambda r: "/p/" in r.url) as framed:
                await page.goto(survey_url)
            response = await framed.value
            policy = response.headers["content-security-policy"]
            assert "frame-ancestors https://survey.example.org;" in policy
            await expect(page.get_by_role("heading", name="Survey question")).to_be_visible()
            frame = page.frame_locator("#woz")
            await expect(frame.get_by_role("heading", name="Before you start")).to_have_count(0)
        finally:
            await context.close()
        # The browser fetched the page but never ran it: no consent, no chat.
        assert await woz.store.list_consents(woz.study.id) == []
        assert [s.chat_started_at for s in await woz.store.list_page_sessions(woz.study.id)] == [
            None
        ]


TIMED_TOML = PROLIFIC_TOML.replace("pay = 2.5", "pay = 2.5\ntime_limit_minutes = 0.05")


@pytest.mark.parametrize("study_toml", [TIMED_TOML], indirect=True)
async def test_the_time_limit_shows_time_left_then_ends_with_the_timed_out_code(
    browser: Browser, woz: Woz
) -> None:
    """The chat shows the time left; when it runs out the chat ends, the debrief follows,
    and the participant goes back with the timed-out code."""
    async with phone_page(browser) as page:
        await prolific_stand_in(page)
        await page.goto(f"{woz.url}/p/{woz.study.id}{LINK}")
        await consent(page)
        await expect(page.get_by_role("timer")).to_have_text(re.compile(r"^Time left: 0:0[0-3]$"))
        await expect(page.locator("#debrief")).to_contain_text(WHO_WROTE["human"])
        await page.get_by_role("button", name="Continue").click()
        await expect(page.get_by_role("heading", name="The time is up")).to_be_visible()
        await page.wait_for_url(f"{PROLIFIC}?cc=TIMEDOUT", timeout=WAIT_S * 1000)
