"""Two studies in one deployment, each with its console in Chromium: each operator sees
and answers only their own study's requests, though both studies call the model `wizard`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from aiohttp.test_utils import TestServer
from playwright.async_api import Browser, expect

from tests.browser.conftest import finish, open_console
from tests.conftest import Woz, ask
from tests.integration.test_studies import Served, client, two_studies
from woz.config import Settings
from woz.study import parse_study
from woz.testing import ScriptedOperator

pytestmark = pytest.mark.browser


def as_woz(server: TestServer, served: Served) -> Woz:
    """What a console needs to log in: the server and the study's operator token."""

    async def no_operators(*_: object) -> ScriptedOperator:
        raise AssertionError("this test's operators are consoles")

    study = parse_study(f'[study]\nid = "{served.study_id}"\ntitle = "T"\n[[personas]]\nid = "w"\n')
    return Woz(server, study, served.app_key, served.operator_token, no_operators)


async def test_each_console_answers_its_own_study(
    browser: Browser, aiohttp_server: Callable[..., Awaitable[TestServer]], settings: Settings
) -> None:
    async with (
        two_studies(aiohttp_server, settings) as (server, alpha, beta),
        open_console(browser, as_woz(server, alpha)) as console_alpha,
        open_console(browser, as_woz(server, beta)) as console_beta,
    ):
        for console in (console_alpha, console_beta):
            await console.login()
            await console.ready()
        async with client(server, alpha.app_key) as a, client(server, beta.app_key) as b:
            to_alpha = ask(a, "A question for alpha", model="wizard")
            to_beta = ask(b, "A question for beta", model="wizard")
            await console_alpha.task_shown("A question for alpha")
            await console_beta.task_shown("A question for beta")
            await expect(console_alpha.page.locator("body")).not_to_contain_text("for beta")
            await expect(console_beta.page.locator("body")).not_to_contain_text("for alpha")
            for console, answer in ((console_alpha, "Alpha here."), (console_beta, "Beta here.")):
                await console.composer.focus()
                await console.page.keyboard.type(answer)
                await console.page.keyboard.press("Enter")
            assert (await finish(to_alpha)).choices[0].message.content == "Alpha here."
            assert (await finish(to_beta)).choices[0].message.content == "Beta here."
