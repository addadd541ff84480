"""woz_client against a live woz: participants, consent, chat in the openai shape, withdrawal."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from woz_client import AsyncWozClient, WozAPIError, WozClient

from tests.conftest import Woz

CONSENT_REQUIRED = {"study.consent_required": "true"}


@pytest.mark.parametrize("study_toml", [CONSENT_REQUIRED], indirect=True)
async def test_async_client_consents_chats_debriefs_and_withdraws(woz: Woz) -> None:
    """The whole life of a participant through AsyncWozClient, answered by an operator."""
    op = await woz.ready_operator()
    async with AsyncWozClient(woz.url, woz.app_key) as client:
        study = await client.study()
        ada = client.participant("ada@example.org", conversation="session-1")
        with pytest.raises(WozAPIError) as refused:
            await ada.chat.completions.create(
                model="wizard", messages=[{"role": "user", "content": "hi"}]
            )
        assert refused.value.status == 403 and refused.value.code == "consent_required"
        status = await ada.consent(text_sha256=study.consent.text_sha256, method="tap")
        assert status.consent.method == "tap" and status.consent_current
        call = asyncio.create_task(
            ada.chat.completions.create(
                model="wizard", messages=[{"role": "user", "content": "hi"}]
            )
        )
        task = await op.next_task()
        assert task["participant"] == status.participant
        await op.reply(task["id"], "Hello, Ada.")
        reply = await call
        assert reply.choices[0].message.content == "Hello, Ada."
        assert reply.object == "chat.completion"
        assert (await ada.debrief()).debriefed is True
        gone = await ada.withdraw()
        assert gone.withdrawn and gone.records_deleted == 1
        assert (await ada.status()).withdrawn is True
    assert await woz.store.list_records(woz.study.id) == []


async def test_sync_client_streams_like_the_openai_sdk(woz: Woz) -> None:
    """WozClient's stream yields chunks whose deltas join to the operator's answer."""
    op = await woz.ready_operator()

    def chat() -> list[Any]:
        with WozClient(woz.url, woz.app_key) as client:
            bob = client.participant("bob")
            stream = bob.chat.completions.create(
                model="wizard", messages=[{"role": "user", "content": "stream?"}], stream=True
            )
            return list(stream)

    call = asyncio.create_task(asyncio.to_thread(chat))
    task = await op.next_task()
    await op.reply(task["id"], "Yes, word by word.")
    chunks = await call
    text = "".join(c.choices[0].delta.get("content") or "" for c in chunks if c.choices)
    assert text == "Yes, word by word."
    assert chunks[0].object == "chat.completion.chunk"


async def test_client_errors_carry_status_and_code(woz: Woz) -> None:
    """A bad key or a bad consent raises WozAPIError with the server's code."""
    async with AsyncWozClient(woz.url, "wrong") as client:
        with pytest.raises(WozAPIError) as caught:
            await client.participant("ada").status()
    assert caught.value.status == 401 and caught.value.code == "invalid_api_key"
    async with AsyncWozClient(woz.url, woz.app_key) as client:
        with pytest.raises(WozAPIError) as caught:
            await client.participant("ada").consent(version="9")
    assert caught.value.code == "consent_mismatch" and "version '9'" in caught.value.message
