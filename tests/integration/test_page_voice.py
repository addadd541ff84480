"""The participant page's voice socket: the cookie is the caller, its own origin only, and
the study must offer voice; consent rules apply as for the chat."""

from __future__ import annotations

import base64

import aiohttp
import pytest

from tests.conftest import Woz
from tests.integration.page_client import PAGE_STUDY_TOML, page_client
from tests.integration.realtime_client import silence, spoken

VOICE_STUDY = PAGE_STUDY_TOML + '\n[participant_page]\nvoice = true\n\n[voice]\nengine = "espeak"\n'


def socket_url(woz: Woz) -> str:
    return woz.url.replace("http://", "ws://") + f"/p/{woz.study.id}/realtime"


@pytest.mark.parametrize("study_toml", [VOICE_STUDY], indirect=True)
async def test_voice_socket_refusals(woz: Woz) -> None:
    """Another origin, no cookie, or no consent: refused before or at the first turn."""
    async with page_client(woz) as page:
        http = page.http
        await page.open()
        state = await page.state()
        assert state["voice"] == {"audio_kept": False}
        with pytest.raises(aiohttp.WSServerHandshakeError) as cross:
            async with http.ws_connect(socket_url(woz), headers={"Origin": "http://evil.test"}):
                pass
        assert cross.value.status == 403
        async with http.ws_connect(socket_url(woz), headers={"Origin": woz.url}) as ws:
            created = await ws.receive_json(timeout=10)
            assert created["type"] == "session.created"
            assert created["session"]["model"] == "concierge"
            # No consent yet: the first turn is refused as the chat's would be.
            pcm = silence(0.2) + spoken("Hello") + silence(0.8)
            await ws.send_json(
                {"type": "input_audio_buffer.append", "audio": base64.b64encode(pcm).decode()}
            )
            while (event := await ws.receive_json(timeout=10))["type"] != "error":
                pass
            assert event["error"]["code"] == "consent_required"
    async with aiohttp.ClientSession() as stranger:
        with pytest.raises(aiohttp.WSServerHandshakeError) as nobody:
            async with stranger.ws_connect(socket_url(woz), headers={"Origin": woz.url}):
                pass
        assert nobody.value.status == 401


@pytest.mark.parametrize("study_toml", [PAGE_STUDY_TOML], indirect=True)
async def test_no_voice_mode_without_the_setting(woz: Woz) -> None:
    async with page_client(woz) as page:
        http = page.http
        await page.open()
        assert (await page.state())["voice"] is None
        with pytest.raises(aiohttp.WSServerHandshakeError) as off:
            async with http.ws_connect(socket_url(woz), headers={"Origin": woz.url}):
                pass
        assert off.value.status == 404
