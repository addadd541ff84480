"""Transcription in the console: the operator hears the upload and types what was said."""

from __future__ import annotations

import asyncio

import openai
import pytest
from playwright.async_api import expect

from tests.browser.conftest import Console, finish
from tests.integration.test_audio_transcriptions import wav_bytes

pytestmark = pytest.mark.browser


async def test_operator_plays_the_upload_and_the_transcript_reaches_the_sdk(
    console: Console, openai_client: openai.AsyncOpenAI
) -> None:
    """The audio served to the logged-in console loads (3 s of it), and Enter sends the text."""
    page = console.page
    await console.login()
    await console.ready()
    call = asyncio.create_task(
        openai_client.audio.transcriptions.create(
            file=("speech.wav", wav_bytes(seconds=3.0), "audio/wav"), model="wizard"
        )
    )
    audio = console.view.locator("audio")
    await expect(audio).to_have_count(1)
    assert (await audio.get_attribute("src") or "").startswith("/operator/media/")
    await page.wait_for_function("document.querySelector('audio').readyState >= 1", timeout=10_000)
    assert await audio.evaluate("a => Math.round(a.duration)") == 3
    await console.composer.click()
    await page.keyboard.type("Hello, this is a test.")
    await page.keyboard.press("Enter")
    transcription = await finish(call)
    assert transcription.text == "Hello, this is a test."
