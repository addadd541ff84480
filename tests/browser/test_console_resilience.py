"""The console under a dropped socket, a reload, and a task the app withdraws."""

from __future__ import annotations

import asyncio
import contextlib
import json

import openai
import pytest
from aiohttp import WSCloseCode
from playwright.async_api import Browser, WebSocketRoute, expect

from tests.browser.conftest import Console, finish, open_console
from tests.conftest import Woz, ask

pytestmark = pytest.mark.browser


async def test_dropped_socket_reconnects_and_the_held_task_is_answered(
    console: Console, openai_client: openai.AsyncOpenAI
) -> None:
    """The network goes away mid-answer; the console reconnects, keeps the draft, answers."""
    page = console.page
    await console.login()
    await console.ready()
    connections = console.woz.runtime.connections
    (before,) = connections.values()
    call = ask(openai_client, "Still there?")
    await console.task_shown("Still there?")
    await page.keyboard.type("Yes, I am")
    # The laptop loses its network: the server sees the socket go, new ones fail for a while.
    await page.context.set_offline(True)
    await before.ws.close(code=WSCloseCode.GOING_AWAY)
    await expect(page.locator(".pill-waiting")).to_be_visible()
    await page.context.set_offline(False)
    await expect(page.locator(".pill-open")).to_be_visible()
    await console.task_shown("Still there?")
    await expect(console.composer).to_have_value("Yes, I am")
    await console.composer.press("End")
    await page.keyboard.type(" here.")
    await page.keyboard.press("Enter")
    completion = await finish(call)
    assert completion.choices[0].message.content == "Yes, I am here."
    (after,) = connections.values()
    assert after is not before  # answered over the new socket


async def test_a_reload_keeps_the_draft_and_the_task(
    console: Console, openai_client: openai.AsyncOpenAI
) -> None:
    """Reloading the page mid-answer brings back the task, the draft and the ready state."""
    page = console.page
    await console.login()
    await console.ready()
    call = ask(openai_client, "Which colour?")
    await console.task_shown("Which colour?")
    await page.keyboard.type("Deep green")
    await page.reload()
    await console.task_shown("Which colour?")
    await expect(console.composer).to_have_value("Deep green")
    await expect(page.locator(".ready-toggle")).to_contain_text("Pause")
    await expect(console.composer).to_be_focused()
    await page.keyboard.type(", like moss.")
    await page.keyboard.press("Enter")
    completion = await finish(call)
    assert completion.choices[0].message.content == "Deep green, like moss."


async def test_a_withdrawn_request_disappears_with_a_notice(
    console: Console, openai_client: openai.AsyncOpenAI
) -> None:
    """When the app gives up on its request, the task goes away and the operator is told why."""
    page = console.page
    await console.login()
    await console.ready()
    call = ask(openai_client, "Never mind")
    await console.task_shown("Never mind")
    await page.keyboard.type("Half an ans")
    call.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await call
    notice = page.locator(".notice-warn")
    await expect(notice).to_contain_text("Task withdrawn")
    await expect(notice).to_contain_text("client_gone")
    await expect(page.locator(".task-tab")).to_have_count(0)
    await expect(page).to_have_title("woz console")
    await expect(page.locator(".empty-state")).to_contain_text("Waiting for the next task")
    assert (
        await page.evaluate(
            "() => Object.keys(sessionStorage).filter(k => k.startsWith('woz.draft.'))"
        )
        == []
    )


async def test_escape_releases_the_task_to_the_queue(
    console: Console, openai_client: openai.AsyncOpenAI
) -> None:
    """Escape hands the task back; with nobody else online the queue shows it waiting."""
    page = console.page
    await console.login()
    await console.ready()
    call = ask(openai_client, "Hand me back")
    await console.task_shown("Hand me back")
    await page.keyboard.press("Alt+r")  # pause first, or the task would come straight back
    await page.keyboard.press("Escape")
    await expect(page.locator(".notice-info")).to_contain_text("Task released")
    await expect(page.locator(".queue-stats")).to_contain_text("1 waiting")
    await page.keyboard.press("Alt+r")
    await console.task_shown("Hand me back")
    await page.keyboard.type("Back again")
    await page.keyboard.press("Enter")
    assert (await finish(call)).choices[0].message.content == "Back again"


async def test_a_second_console_takes_over_and_the_first_stops(
    console: Console, browser: Browser, woz: Woz
) -> None:
    """Two tabs for one operator do not fight: the older one says so and stops reconnecting."""
    await console.login()
    async with open_console(browser, woz) as second:
        await second.login()
        blocker = console.page.locator(".blocker")
        await expect(blocker).to_contain_text("open elsewhere")
        await expect(console.page.locator(".pill-replaced")).to_be_visible()
        await expect(second.page.locator(".pill-open")).to_be_visible()
    # The operator can take the console back in the first tab.
    await console.page.get_by_role("button", name="Use this tab").click()
    await expect(console.page.locator(".pill-open")).to_be_visible()
    await expect(console.page.locator(".blocker")).to_be_hidden()


async def test_a_connection_gone_silent_is_noticed_and_replaced(
    console: Console, openai_client: openai.AsyncOpenAI
) -> None:
    """No close ever arrives, the server just falls silent: the console pings, hears
    nothing, reconnects on its own, and the next task is answered over the new socket."""
    page = console.page
    await page.clock.install()
    sockets: list[bool] = []  # per connection: are the server's frames still delivered?
    online_again = asyncio.Event()  # the server counts the operator ready on a new socket

    def relay(ws: WebSocketRoute) -> None:
        index = len(sockets)
        sockets.append(True)
        server = ws.connect_to_server()

        def from_server(message: str | bytes) -> None:
            if not sockets[index]:
                return
            ws.send(message)
            frame = json.loads(message)
            if index > 0 and frame["type"] == "queue" and frame["operators_online"] == 1:
                online_again.set()

        server.on_message(from_server)

    await page.route_web_socket("**/operator/ws", relay)
    await console.login()
    await console.ready()
    sockets[0] = False  # half-open: what the server sends is lost on the way
    await page.clock.fast_forward(16_000)  # silence: the console pings
    await page.clock.fast_forward(11_000)  # and hears nothing back
    async with asyncio.timeout(10):
        await online_again.wait()
    await expect(page.locator(".pill-open")).to_be_visible()
    assert len(sockets) == 2
    call = ask(openai_client, "Anyone?")
    await console.task_shown("Anyone?")
    await page.keyboard.type("Still here.")
    await page.keyboard.press("Enter")
    assert (await finish(call)).choices[0].message.content == "Still here."
