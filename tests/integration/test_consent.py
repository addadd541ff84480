"""Consent, disclosure and withdrawal through the /woz/ API, the SDKs and the participant page."""

from __future__ import annotations

import re
import sqlite3
from typing import Any

import aiohttp
import anthropic
import openai
import psycopg
import pytest

from tests.conftest import Woz, ask
from tests.databases import run_sql
from woz.auth.tokens import create_key
from woz.config import Settings

CONSENT_REQUIRED = {
    "study.consent_required": "true",
    "study.permitted_uses": '["in_study_analysis", "publication_excerpts"]',
}

DECEPTIVE_TOML = """
[study]
id = "deceptive"
title = "A deceptive study"
deception = "partial"
irb_protocol = "IRB-1"

[study.debrief]
text = "A person wrote every answer."
reconsent_required = true

[[personas]]
id = "wizard"
"""


async def call(
    woz: Woz, method: str, path: str, body: Any = None, token: str | None = "app"
) -> tuple[int, Any]:
    """A /woz/ API call with the app key (or `token`); returns status and JSON."""
    headers = {}
    if token is not None:
        headers["Authorization"] = f"Bearer {woz.app_key if token == 'app' else token}"
    async with (
        aiohttp.ClientSession() as http,
        http.request(method, f"{woz.url}/woz{path}", json=body, headers=headers) as response,
    ):
        return response.status, await response.json()


@pytest.mark.parametrize("study_toml", [CONSENT_REQUIRED], indirect=True)
async def test_request_without_consent_is_refused_in_each_dialect(
    woz: Woz, openai_client: openai.AsyncOpenAI
) -> None:
    """No consent: the OpenAI and Anthropic SDKs raise PermissionDenied naming consent_required."""
    await woz.ready_operator()
    with pytest.raises(openai.PermissionDeniedError) as caught:
        await openai_client.chat.completions.create(
            model="wizard", messages=[{"role": "user", "content": "hi"}], user="ada"
        )
    assert caught.value.code == "consent_required"
    with pytest.raises(openai.PermissionDeniedError) as anonymous:
        await openai_client.chat.completions.create(
            model="wizard", messages=[{"role": "user", "content": "hi"}]
        )
    assert anonymous.value.code == "consent_required"
    async with anthropic.AsyncAnthropic(
        base_url=woz.url, api_key=woz.app_key, max_retries=0
    ) as claude:
        with pytest.raises(anthropic.PermissionDeniedError) as refused:
            await claude.messages.create(
                model="wizard",
                max_tokens=50,
                messages=[{"role": "user", "content": "hi"}],
                metadata={"user_id": "ada"},
            )
    assert refused.value.body["error"]["type"] == "permission_error"  # type: ignore[index]
    assert "consent_required" in refused.value.message


@pytest.mark.parametrize("study_toml", [CONSENT_REQUIRED], indirect=True)
async def test_consent_recorded_by_api_lets_the_participant_in(
    woz: Woz, openai_client: openai.AsyncOpenAI
) -> None:
    """After POST consent the request is answered, and its record names the consent."""
    status, study = await call(woz, "GET", "/study")
    assert status == 200 and study["consent"]["required"] is True
    status, body = await call(
        woz,
        "POST",
        "/participants/ada/consent",
        {"version": "1", "text_sha256": study["consent"]["text_sha256"], "method": "click",
         "scopes": ["in_study_analysis"]},
    )  # fmt: skip
    assert status == 201 and body["consent"]["scopes"] == ["in_study_analysis"]
    assert body["consent_current"] is True and body["participant"].startswith("p_")
    op = await woz.ready_operator()
    reply = ask(openai_client, "hello", user="ada")
    task = await op.next_task()
    ack = await op.reply(task["id"], "welcome")
    assert (await reply).choices[0].message.content == "welcome"
    record = await woz.store.get_record(ack["record_id"])
    assert record is not None and record.consent_id == body["consent"]["id"]
    assert "user" not in record.request  # the raw id is never stored


@pytest.mark.parametrize("study_toml", [CONSENT_REQUIRED], indirect=True)
async def test_consent_to_another_text_or_use_is_refused(woz: Woz) -> None:
    """A wrong version, a wrong text hash, a use the study does not permit, no use, or uses
    without the one taking part needs (the team's analysis): 409 or 400."""
    for body, code in (
        ({"scopes": []}, "no_scopes"),
        ({"scopes": ["publication_excerpts"]}, "required_use"),
        ({"version": "2"}, "consent_mismatch"),
        ({"text_sha256": "0" * 64}, "consent_mismatch"),
        ({"scopes": ["commercial_use"]}, "consent_mismatch"),
        ({"scopes": ["flying"]}, "invalid_request"),
        ({"unknown": 1}, "invalid_request"),
    ):
        status, error = await call(woz, "POST", "/participants/ada/consent", body)
        assert status in (400, 409) and error["error"]["code"] == code, body
    _, status_body = await call(woz, "GET", "/participants/ada")
    assert status_body["consent"] is None


async def test_research_api_needs_an_app_or_researcher_key(woz: Woz) -> None:
    """No key or an operator's: 401 in the research API's JSON shape; a researcher key works."""
    status, body = await call(woz, "GET", "/participants/ada", token=None)
    assert status == 401 and body["error"]["code"] == "missing_api_key"
    status, body = await call(woz, "GET", "/participants/ada", token=woz.operator_token)
    assert status == 401 and body["error"]["code"] == "invalid_api_key"
    _, researcher = await create_key(woz.store, woz.study.id, "researcher", "Dr R")
    status, body = await call(woz, "GET", "/participants/ada", token=researcher)
    assert status == 200 and body["withdrawn"] is False
    status, body = await call(woz, "GET", "/nowhere")
    assert status == 404 and body["error"]["code"] == "unknown_url"


async def test_withdrawn_participant_is_refused_and_an_answer_in_flight_is_not_kept(
    woz: Woz, openai_client: openai.AsyncOpenAI
) -> None:
    """Withdrawal mid-task: the reply still reaches the app, but no record of it survives."""
    op = await woz.ready_operator()
    reply = ask(openai_client, "my secret", user="ada")
    task = await op.next_task()
    status, body = await call(woz, "POST", "/participants/ada/withdraw")
    assert status == 200 and body["withdrawn"] is True and body["records_deleted"] == 0
    await op.reply(task["id"], "noted")
    await reply
    assert await woz.store.list_records(woz.study.id) == []
    with pytest.raises(openai.PermissionDeniedError) as caught:
        await openai_client.chat.completions.create(
            model="wizard", messages=[{"role": "user", "content": "again"}], user="ada"
        )
    assert caught.value.code == "participant_withdrawn"
    status, error = await call(woz, "POST", "/participants/ada/consent", {})
    assert status == 409 and error["error"]["code"] == "not_allowed"
    _, again = await call(woz, "POST", "/participants/ada/withdraw")
    assert again["tombstone"] == body["tombstone"]


async def test_disclosure_events_and_consents_cannot_be_edited(
    woz: Woz, settings: Settings
) -> None:
    """The tables refuse UPDATE and DELETE: events are appended, never edited."""
    await call(woz, "POST", "/participants/ada/consent", {})
    await call(woz, "POST", "/participants/ada/notice")
    await call(woz, "POST", "/participants/ada/debrief")
    _, status = await call(woz, "GET", "/participants/ada")
    assert status["notified_at"] and status["debriefed"] is True
    for sql in (
        "UPDATE disclosures SET kind = 'debriefed'",
        "DELETE FROM disclosures",
        "UPDATE consents SET scopes = '[]'",
    ):
        with pytest.raises((sqlite3.IntegrityError, psycopg.Error), match="append-only"):
            run_sql(settings, sql)


@pytest.mark.parametrize("study_toml", [DECEPTIVE_TOML], indirect=True)
async def test_reconsent_follows_the_debrief(woz: Woz) -> None:
    """Re-consent before the debrief is refused; after it, granted or refused is recorded."""
    status, error = await call(woz, "POST", "/participants/ada/reconsent", {"granted": True})
    assert status == 409 and "debrief" in error["error"]["message"]
    await call(woz, "POST", "/participants/ada/debrief")
    status, body = await call(woz, "POST", "/participants/ada/reconsent", {"granted": False})
    assert status == 201 and body["reconsent"] == "refused"
    assert body["debrief_required"] is True and body["debriefed"] is True


async def test_participant_page_consents_and_withdraws(woz: Woz) -> None:
    """The participant's own link shows the consent text, records consent, then withdrawal."""
    _, status = await call(woz, "GET", "/participants/ada")
    page = status["page_url"]
    async with aiohttp.ClientSession() as http:
        async with http.get(page) as response:
            html = await response.text()
            assert response.status == 200
            assert "default-src 'none'" in response.headers["Content-Security-Policy"]
            assert response.headers["Referrer-Policy"] == "no-referrer"
        assert "I agree" in html and "Withdraw and delete my data" in html
        async with http.post(page + "/consent", data={"scope": "in_study_analysis"}) as response:
            assert response.status == 200 and "You agreed on" in await response.text()
        _, status = await call(woz, "GET", "/participants/ada")
        assert status["consent"]["method"] == "participant_page"
        async with http.post(page + "/withdraw", data={}) as response:
            assert "Withdraw and delete" in await response.text()  # not confirmed: nothing done
        async with http.post(page + "/withdraw", data={"confirm": "yes"}) as response:
            assert "You have withdrawn" in await response.text()
        forged = re.sub(r"\.[0-9a-f]+$", ".0000", page)
        async with http.get(forged) as response:
            assert response.status == 404
    _, status = await call(woz, "GET", "/participants/ada")
    assert status["withdrawn"] is True and "page_url" not in status


async def test_operator_presence_is_recorded(woz: Woz) -> None:
    """Ready, pause and a server stop are stored as presence changes under the pseudonym."""
    op = await woz.ready_operator()
    await op.pause()
    await op.ready()
    rejected = await op.reply("task_none", "x")  # answered only after the frames before it
    assert rejected["type"] == "reply.rejected"
    await woz.runtime.presence.close()  # what a stopping server does
    events = await woz.store.list_presence(woz.study.id)
    assert [e.state for e in events] == ["available", "paused", "available", "offline"]
    assert {e.operator for e in events} == {op.hello["operator"]["id"]}
