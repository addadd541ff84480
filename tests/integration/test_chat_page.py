"""The participant chat page's endpoints: its cookie, its refusals, and what they record."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest
from yarl import URL

from tests.conftest import STUDY_TOML, Woz
from tests.integration.page_client import PAGE_STUDY_TOML, PageClient, page_client
from woz.models.pseudonyms import tombstone_of
from woz.models.research import DisclosureKind
from woz.research.consent import text_sha256
from woz.research.debrief import WHO_WROTE


@pytest.fixture
def study_toml(request: pytest.FixtureRequest) -> str:
    """The page's deceptive study, unless a test parametrizes another."""
    param: str = getattr(request, "param", PAGE_STUDY_TOML)
    return param


async def answered_turn(woz: Woz, client: PageClient, content: str, reply: str) -> list[object]:
    """One chat turn through the page, answered by a scripted operator; the SSE payloads."""
    op = await woz.ready_operator()
    turn = asyncio.create_task(client.chat(content))
    task = await op.next_task()
    await op.reply(task["id"], reply)
    status, frames = await turn
    assert status == 200, frames
    return frames


async def test_first_visit_makes_a_participant_and_a_strict_cookie(woz: Woz) -> None:
    """The page sets an HttpOnly, SameSite=Strict cookie for its own path, once, under a CSP."""
    async with page_client(woz) as client:
        response = await client.open()
        assert response.status == 200 and response.content_type == "text/html"
        csp = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "object-src 'none'" in csp
        assert "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
        assert response.headers["Referrer-Policy"] == "no-referrer"
        cookie = response.cookies["woz_participant"]
        assert cookie["httponly"] and cookie["samesite"] == "Strict"
        assert cookie["path"] == "/p/page-study"
        first = client.cookie
        await client.open()
        assert client.cookie == first  # a second visit is the same participant
        assert woz.runtime.participants.participant_of_token(first or "") is not None
        async with client.http.get(f"{woz.url}/participant/static/page.js") as script:
            assert (
                script.status == 200
                and "script-src 'self'" in script.headers["Content-Security-Policy"]
            )


async def test_state_shows_consent_and_nothing_for_researchers(woz: Woz) -> None:
    """The state has the consent text, version and hash, the persona, never the description."""
    async with page_client(woz) as client:
        await client.open()
        state = await client.state()
    assert state["persona"] == {"id": "concierge", "name": "Concierge"}
    consent = state["consent"]
    assert consent["required"] is True and consent["given"] is False and consent["version"] == "2"
    assert consent["text_sha256"] == text_sha256(consent["text"])
    assert [use["id"] for use in consent["uses"]] == ["in_study_analysis", "publication_excerpts"]
    assert state["debrief"]["given"] is False and state["debrief"]["at_session_end"] is True
    assert "Trained staff" not in str(state) and "IRB" not in str(state)


async def test_no_cookie_is_401_in_json(woz: Woz) -> None:
    """Without the page's cookie (or with a forged one) every endpoint answers 401 JSON."""
    async with page_client(woz) as client:
        for method, path in [("GET", "state"), ("POST", "consent"), ("POST", "withdraw")]:
            status, body = await client.call(method, path, {})
            assert status == 401 and body["error"]["code"] == "no_session"
        status, [body] = await client.chat("Hello?")
        assert status == 401 and body["error"]["code"] == "no_session"
        client.http.cookie_jar.update_cookies(
            {"woz_participant": "p_0123456789abcdef0123.0000"}, response_url=URL(client.page)
        )
        status, body = await client.call("GET", "state")
        assert status == 401 and body["error"]["code"] == "invalid_session"


async def test_posts_without_the_page_header_are_403(woz: Woz) -> None:
    """A POST lacking `X-Woz-Page: 1` (a cross-site form, say) is refused and does nothing."""
    async with page_client(woz) as client:
        await client.open()
        for path in ("consent", "end", "withdraw", "chat/completions"):
            status, body = await client.call("POST", path, {}, page_header=False)
            assert status == 403 and body["error"]["code"] == "page_header_required", path
        assert (await client.state())["withdrawn"] is False


async def test_unknown_study_is_404(woz: Woz) -> None:
    """Another study's path: the page is a 404 page, the endpoints 404 JSON."""
    async with page_client(woz) as client:
        await client.open()
        async with client.http.get(f"{woz.url}/p/no-such-study") as response:
            assert response.status == 404 and "no study" in await response.text()
        other = PageClient(woz, client.http, "no-such-study")
        for method, path in [("GET", "state"), ("POST", "consent")]:
            status, body = await other.call(method, path, {})
            assert status == 404 and body["error"]["code"] == "unknown_study"
        status, [body] = await other.chat("Hello?")
        assert status == 404 and body["error"]["code"] == "unknown_study"


async def test_chat_needs_consent_then_streams_as_the_api_does(woz: Woz) -> None:
    """Before consent the chat is 403 consent_required; after, it streams chunks and [DONE]."""
    async with page_client(woz) as client:
        await client.open()
        status, [body] = await client.chat("Hello?")
        assert status == 403 and body["error"]["code"] == "consent_required"
        state = await client.consent(["in_study_analysis"])
        assert state["consent"]["given"] is True
        assert state["consent"]["scopes"] == ["in_study_analysis"]
        frames = await answered_turn(woz, client, "A gift idea?", "A silk scarf.")
    assert frames[-1] == "[DONE]"
    chunks = [f for f in frames if isinstance(f, dict)]
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks)
    assert text == "A silk scarf."
    [consent] = await woz.store.list_consents(woz.study.id)
    assert consent.method == "participant_page" and consent.version == "2"


async def test_the_cookie_decides_the_participant(woz: Woz) -> None:
    """A participant header or `user` field cannot make the page speak for someone else."""
    async with page_client(woz) as client:
        await client.join()
        op = await woz.ready_operator()
        turn = asyncio.create_task(client.chat("Hi", headers={"X-Woz-Participant": "someone-else"}))
        task = await op.next_task()
        assert task["participant"] == client.participant
        await op.reply(task["id"], "Hello!")
        assert (await turn)[0] == 200
        status, [body] = await client.chat("Hi", model="backstage")
        assert status == 400 and body["error"]["param"] == "model"


async def test_consent_to_another_text_is_refused(woz: Woz) -> None:
    """A consent naming a text the study no longer has is 409; no uses ticked, or none of
    the use taking part needs, is 400."""
    async with page_client(woz) as client:
        await client.open()
        body = {"version": "2", "text_sha256": "0" * 64, "scopes": ["in_study_analysis"]}
        status, error = await client.call("POST", "consent", body)
        assert status == 409 and error["error"]["code"] == "consent_mismatch"
        body = {"version": "2", "text_sha256": (await client.state())["consent"]["text_sha256"]}
        status, error = await client.call("POST", "consent", {**body, "scopes": []})
        assert status == 400 and error["error"]["code"] == "no_scopes"
        excerpts_only = {**body, "scopes": ["publication_excerpts"]}
        status, error = await client.call("POST", "consent", excerpts_only)
        assert status == 400 and error["error"]["code"] == "required_use"
    assert await woz.store.list_consents(woz.study.id) == []


async def test_end_debriefs_once_with_what_was_shown(woz: Woz) -> None:
    """Ending records one `debriefed` event hashing the whole debrief shown; it says who wrote."""
    async with page_client(woz) as client:
        await client.join()
        await answered_turn(woz, client, "Hello?", "Hi there.")
        status, state = await client.end()
        assert status == 200 and state["debrief"]["given"] is True
        content = state["debrief"]["content"]
        assert content["disclosure"] == WHO_WROTE["human"]
        assert content["reason"].endswith("changes how people phrase requests.")
        assert content["text"].startswith("Thank you for helping us.")
        status, again = await client.end()
        assert again["debrief"] == state["debrief"]
        subject = tombstone_of(client.participant)
    events = await woz.store.list_disclosures(woz.study.id, subject)
    [debriefed] = [e for e in events if e.kind is DisclosureKind.DEBRIEFED]
    shown = "\n\n".join([content["disclosure"], content["reason"], content["text"]])
    assert debriefed.text_sha256 == text_sha256(shown)


@pytest.mark.parametrize(
    "study_toml",
    [
        PAGE_STUDY_TOML.replace('policy = "end_of_session"', 'policy = "end_of_study"'),
        STUDY_TOML,
    ],
    indirect=True,
)
async def test_end_without_a_debrief_due_records_nothing(woz: Woz) -> None:
    """An end-of-study debrief, or a study with none, is not given when the session ends."""
    async with page_client(woz) as client:
        await client.join()
        status, state = await client.end()
        assert status == 200 and state["debrief"]["given"] is False
        subject = tombstone_of(client.participant)
    events = await woz.store.list_disclosures(woz.study.id, subject)
    assert not [e for e in events if e.kind is DisclosureKind.DEBRIEFED]


@pytest.mark.parametrize(
    "study_toml",
    [PAGE_STUDY_TOML.replace("[study.debrief]", "[study.debrief]\nreconsent_required = true")],
    indirect=True,
)
async def test_reconsent_after_the_debrief(woz: Woz) -> None:
    """Re-consent is refused before the debrief and recorded after it."""
    async with page_client(woz) as client:
        await client.join()
        status, error = await client.call("POST", "reconsent", {"granted": False})
        assert status == 409 and error["error"]["code"] == "not_allowed"
        await client.end()
        status, state = await client.call("POST", "reconsent", {"granted": False})
        assert status == 200 and state["debrief"]["reconsent"] == "refused"


async def test_withdraw_deletes_and_later_requests_are_refused(woz: Woz) -> None:
    """Withdrawal deletes the records at once; the chat and consent are refused after it."""
    async with page_client(woz) as client:
        await client.join()
        await answered_turn(woz, client, "Hello?", "Hi there.")
        status, state = await client.call("POST", "withdraw")
        assert status == 200 and state["withdrawn"] is True
        assert state["records_deleted"] == 1 and "consent" not in state
        assert await woz.store.list_records(woz.study.id) == []
        status, [body] = await client.chat("Still there?")
        assert status == 403 and body["error"]["code"] == "participant_withdrawn"
        body = {"version": "2", "text_sha256": "x", "scopes": ["in_study_analysis"]}
        status, error = await client.call("POST", "consent", body)
        assert status == 409 and error["error"]["code"] == "not_allowed"
        assert (await client.state())["withdrawn"] is True  # also after a reload


async def test_trailing_slash_redirects_to_the_page(woz: Woz) -> None:
    """`/p/<id>/` goes to `/p/<id>`."""
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"{woz.url}/p/page-study/", allow_redirects=False) as response,
    ):
        assert response.status == 302 and response.headers["Location"] == "/p/page-study"
