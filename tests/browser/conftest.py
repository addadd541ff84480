"""Headless Chromium (Debian's, never a downloaded one) driving the operator console."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

import pytest
from playwright.async_api import Browser, Dialog, Locator, Page, async_playwright, expect

from tests.conftest import Woz

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT = {"width": 1366, "height": 820}
WAIT_S = 10.0

T = TypeVar("T")


@dataclass
class Console:
    """A console page in its own browser context, with what it reported."""

    page: Page
    woz: Woz
    page_errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    @property
    def view(self) -> Locator:
        """The task currently shown."""
        return self.page.locator(".task-view:not([hidden])")

    @property
    def composer(self) -> Locator:
        return self.view.locator(".composer-text")

    def field(self, path: str) -> Locator:
        """A schema-form control of the shown task by its JSON path, e.g. `tags[0]`."""
        return self.view.locator(f'[data-path="{path}"]')

    async def login(self) -> None:
        await self.page.goto(f"{self.woz.url}/console/login?token={self.woz.operator_token}")
        await expect(self.page.locator(".pill-open")).to_be_visible()
        await expect(self.page.locator(".empty-state")).to_contain_text("paused")

    async def ready(self, capacity: int = 1) -> None:
        """Press Ready and wait until the server counts this operator as online."""
        if capacity != 1:
            await self.page.select_option("#capacity", str(capacity))
        await self.page.keyboard.press("Alt+r")
        await expect(self.page.locator(".queue-stats")).to_contain_text("1 operator online")

    async def task_shown(self, text: str) -> None:
        """Wait until the shown task's conversation contains `text`."""
        await expect(self.view.locator(".transcript")).to_contain_text(text)


async def finish(awaitable: Awaitable[T]) -> T:
    """Await an SDK call started in the background, with the suite's timeout."""
    return await asyncio.wait_for(awaitable, WAIT_S)


@asynccontextmanager
async def launched(*extra_args: str) -> AsyncIterator[Browser]:
    """Debian's Chromium, headless, with `extra_args` (fake media devices, autoplay)."""
    async with async_playwright() as playwright:
        args = [*CHROMIUM_ARGS, *extra_args]
        chromium = await playwright.chromium.launch(executable_path=CHROMIUM, args=args)
        try:
            yield chromium
        finally:
            await chromium.close()


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with launched() as chromium:
        yield chromium


@asynccontextmanager
async def open_console(
    browser: Browser, woz: Woz, **context_options: Any
) -> AsyncIterator[Console]:
    """A fresh browser context (own cookies and storage) with a page on the console."""
    context = await browser.new_context(viewport=VIEWPORT, **context_options)  # type: ignore[arg-type]
    context.set_default_timeout(WAIT_S * 1000)
    page = await context.new_page()
    console = Console(page, woz)
    page.on("pageerror", lambda error: console.page_errors.append(str(error)))

    async def on_dialog(dialog: Dialog) -> None:
        console.dialogs.append(f"{dialog.type}: {dialog.message}")
        await dialog.dismiss()

    page.on("dialog", on_dialog)
    try:
        yield console
    finally:
        await context.close()
    assert console.page_errors == [], f"uncaught errors in the console: {console.page_errors}"


@pytest.fixture
async def console(browser: Browser, woz: Woz) -> AsyncIterator[Console]:
    async with open_console(browser, woz) as page:
        yield page
