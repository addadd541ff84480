"""The participant page's voice mode in Chromium, its microphone a WAV of speech.

Chromium's fake media devices (`--use-fake-device-for-media-stream`, with
`--use-file-for-fake-audio-capture`) give the page a microphone that says the
WAV's words, on a loop, from the moment the page opens it.
"""

from __future__ import annotations

import subprocess
import wave
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, Page, expect

from tests.browser.conftest import WAIT_S, launched
from tests.conftest import Woz
from tests.integration.page_client import PAGE_STUDY_TOML
from woz.media.files import MEDIA_URL_PREFIX
from woz.testing import ScriptedOperator

pytestmark = pytest.mark.browser

VOICE_STUDY = (
    PAGE_STUDY_TOML.replace(
        "Your conversation is recorded for research.",
        "Your conversation and audio recordings of your voice are kept for research.",
    )
    + '\n[participant_page]\nvoice = true\n\n[voice]\nengine = "espeak"\nkeep_audio = true\n'
)
SAID = "Hello, I would like a gift for my sister."
ANSWER = "A silk scarf would be lovely."


@pytest.fixture(scope="module")
def microphone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A WAV the fake microphone plays: a pause, the sentence, and a long pause."""
    folder = tmp_path_factory.mktemp("mic")
    speech = folder / "speech.wav"
    subprocess.run(["espeak-ng", "-w", str(speech), SAID], check=True, timeout=30)
    padded = folder / "mic.wav"
    with wave.open(str(speech), "rb") as source:
        params = source.getparams()
        frames = source.readframes(source.getnframes())
    rate = params.framerate
    with wave.open(str(padded), "wb") as out:
        out.setparams(params)
        out.writeframes(b"\0\0" * int(rate * 0.6) + frames + b"\0\0" * int(rate * 6))
    return padded


@pytest.fixture
async def browser(microphone: Path) -> AsyncIterator[Browser]:
    async with launched(
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-audio-capture={microphone}",
        "--autoplay-policy=no-user-gesture-required",
    ) as chromium:
        yield chromium


@asynccontextmanager
async def joined(browser: Browser, woz: Woz) -> AsyncIterator[Page]:
    """A participant who opened the page with a microphone and consented."""
    context = await browser.new_context(permissions=["microphone"])
    context.set_default_timeout(WAIT_S * 1000)
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        await page.goto(f"{woz.url}/p/{woz.study.id}")
        await expect(page.locator("#consent-text")).to_contain_text(
            "audio recordings of your voice"
        )
        await page.get_by_role("checkbox").first.check()
        await page.get_by_role("button", name="I agree, start the chat").click()
        await expect(page.locator("#voice-bar")).to_be_visible()
        await expect(page.locator(".voice-note")).to_contain_text("recorded and kept")
        yield page
    finally:
        await context.close()
    assert errors == [], f"uncaught errors on the page: {errors}"


async def answered(page: Page, op: ScriptedOperator, task: dict[str, Any]) -> str:
    """The wizard answers `task` (with what they heard); the page shows the caption and
    plays the speech. Returns the utterance's media id."""
    [part] = [p for p in task["messages"][-1]["content"] if p["type"] == "audio"]
    await op.reply(task["id"], ANSWER, transcript=SAID)
    await expect(page.locator(".msg-assistant .bubble").last).to_have_text(ANSWER)
    await expect(page.locator(".msg-user .bubble").last).to_have_text(SAID)
    await expect(page.locator("#voice-bar")).to_have_attribute("data-speaking", "true")
    return str(part["url"]).removeprefix(MEDIA_URL_PREFIX)


@pytest.mark.parametrize("study_toml", [VOICE_STUDY], indirect=True)
async def test_hands_free_turn_and_withdrawal(browser: Browser, woz: Woz) -> None:
    """The page hears the participant, the wizard hears the utterance and answers, the page
    speaks the answer with its caption; withdrawal deletes the recording."""
    op = await woz.online_operator()
    async with joined(browser, woz) as page:
        await page.get_by_role("radio", name="Hands-free").check()
        await expect(page.locator(".mic")).to_have_attribute("data-on", "true")
        task = await op.next_task(timeout=20)
        assert task["api"] == "openai.realtime" and task["persona"] == "concierge"
        media_id = await answered(page, op, task)
        assert await woz.store.media_file(media_id) is not None  # kept, as consented
        await page.get_by_role("radio", name="Push to talk").check()
        await expect(page.locator(".mic")).to_have_attribute("data-on", "false")
        await page.get_by_role("button", name="End chat").click()
        await page.get_by_role("button", name="Withdraw and delete my data").click()
        await expect(page.get_by_role("heading", name="Your data has been deleted")).to_be_visible()
    assert await woz.store.media_file(media_id) is None


@pytest.mark.parametrize("study_toml", [VOICE_STUDY], indirect=True)
async def test_push_to_talk(browser: Browser, woz: Woz) -> None:
    """Holding the button sends what was said while it was held, as one turn."""
    op = await woz.online_operator()
    async with joined(browser, woz) as page:
        talk = page.get_by_role("button", name="Hold to talk")
        await talk.hover()
        await page.mouse.down()
        await expect(page.locator(".mic")).to_have_attribute("data-on", "true")
        # The participant holds the button while they speak (the WAV's sentence).
        await page.wait_for_timeout(3000)
        await page.mouse.up()
        await expect(page.locator(".mic")).to_have_attribute("data-on", "false")
        task = await op.next_task(timeout=20)
        await answered(page, op, task)
