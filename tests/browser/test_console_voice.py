"""A voice turn in the console: the wizard hears the participant, types what they said
and the answer, and the app hears the answer spoken."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator

import openai
import pytest
from playwright.async_api import Browser, WebSocketRoute, expect

from tests.browser.conftest import Console, launched, open_console
from tests.conftest import STUDY_TOML, Woz
from tests.integration.realtime_client import Events, audio_of, of_type, silence, spoken, stream

pytestmark = [
    pytest.mark.browser,
    pytest.mark.parametrize(
        "study_toml", [STUDY_TOML + '\n[voice]\nengine = "espeak"\n'], indirect=True
    ),
]
SAID = "Where is my parcel?"
ANSWER = "Your parcel arrives tomorrow."
FILLER = "Hmm, let me check. "


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    """Chromium that plays audio without a click first, as a console tab the wizard has
    already used would."""
    async with launched("--autoplay-policy=no-user-gesture-required") as chromium:
        yield chromium


@pytest.fixture
async def voice_console(browser: Browser, woz: Woz) -> AsyncIterator[Console]:
    async with open_console(browser, woz) as page:
        yield page


async def refuse(socket: WebSocketRoute) -> None:
    await socket.close(code=1008, reason="refused")


async def test_wizard_hears_the_utterance_and_answers_in_speech(
    voice_console: Console, openai_client: openai.AsyncOpenAI
) -> None:
    """A console that cannot listen live (its live socket refused, as through a proxy that
    drops it) plays the utterance at once from the task's recording, with its waveform; the
    typed transcript and answer reach the app as the transcription event and spoken audio."""
    console = voice_console
    page = console.page
    await page.route_web_socket(re.compile(r"/operator/voice/"), refuse)
    await console.login()
    await console.ready()
    async with openai_client.realtime.connect(model="wizard") as conn:
        events = Events(conn)
        await events.until("session.created")
        await stream(conn, silence(0.3) + spoken(SAID) + silence(0.8))
        await events.until("response.created")
        turn = console.view.locator(".voice-turn")
        await expect(turn).to_be_visible()
        await expect(turn).to_have_attribute("data-heard", "true")  # it played, unasked
        await expect(turn.locator(".voice-wave")).to_have_attribute("data-drawn", "240")
        await turn.locator(".voice-transcript").fill(SAID)
        # A filler is said at once, before the answer is typed.
        await turn.get_by_role("button", name="Hmm, let me check.").click()
        early = await events.until("response.output_audio.delta")
        assert of_type(early, "response.output_audio_transcript.delta")[0]["delta"] == FILLER
        await page.keyboard.type(ANSWER)
        await page.keyboard.press("Enter")
        got = early + await asyncio.wait_for(events.until("response.done"), 15)
    [heard] = of_type(got, "conversation.item.input_audio_transcription.completed")
    assert heard["transcript"] == SAID
    assert of_type(got, "response.output_audio_transcript.done")[0]["transcript"] == FILLER + ANSWER
    assert len(audio_of(got)) > 24_000  # half a second of speech at least


async def test_the_first_utterance_of_a_session_is_heard_live(
    voice_console: Console, openai_client: openai.AsyncOpenAI
) -> None:
    """The console is told of the session when it opens, plays the first utterance while
    it is spoken, and its task then says it was heard live rather than playing it again."""
    console = voice_console
    page = console.page
    await console.login()
    await console.ready()
    async with openai_client.realtime.connect(model="wizard") as conn:
        events = Events(conn)
        [created] = await events.until("session.created")
        live = page.locator(".voice-live")
        await expect(live).to_have_attribute("data-state", "listening")
        await expect(live).to_have_attribute("data-session", created["session"]["id"])
        # Still speaking, nothing committed: the console hears it already.
        await stream(conn, silence(0.3) + spoken(SAID))
        await expect(live).to_have_attribute("data-live", "true")
        await expect(console.view.locator(".voice-turn")).to_have_count(0)
        await stream(conn, silence(0.8))
        turn = console.view.locator(".voice-turn")
        await expect(turn).to_have_attribute("data-heard", "live")
        await console.composer.click()
        await page.keyboard.type(ANSWER)
        await page.keyboard.press("Enter")
        got = await asyncio.wait_for(events.until("response.done"), 15)
        # The next utterance is heard live too, and its task does not play it again.
        await stream(conn, silence(0.3) + spoken("And the other one?") + silence(0.8))
        await expect(live).to_have_attribute("data-state", re.compile("speech_|committed"))
        await expect(console.view.locator(".voice-turn")).to_have_attribute("data-heard", "live")
        await console.composer.click()
        await page.keyboard.type("It comes on Monday.")
        await page.keyboard.press("Enter")
        await asyncio.wait_for(events.until("response.done"), 15)
    assert got[-1]["response"]["status"] == "completed"
