"""Cookie-authenticated changes come only from woz's own pages: Origin, Sec-Fetch-Site and
Content-Type, checked before anything happens, on the watch view, the participant page and
the operator socket."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aiohttp
import openai
import pytest

from tests.conftest import Woz
from tests.integration.page_client import PAGE_STUDY_TOML, page_client
from tests.integration.test_watch import answered_record, researcher_token
from woz.config import Settings
from woz.models.pseudonyms import tombstone_of

ALLOWED_ORIGIN = "https://lab.example"
PUBLIC_URL = "https://woz.example/study"

OWN = "own"  # stands for the test server's own origin, known only once it runs
REFUSED_HEADERS: list[dict[str, str]] = [
    {"Origin": "http://127.0.0.1:9"},  # another port of the same host: same-site
    {"Origin": "https://evil.example"},
    {"Origin": "null"},  # a sandboxed frame, a file: page
    {"Origin": "https://lab.example.evil.example"},
    {"Sec-Fetch-Site": "same-site"},
    {"Sec-Fetch-Site": "cross-site"},
    {},  # a cookie, yet neither header: not a browser woz trusts
]
ALLOWED_HEADERS: list[dict[str, str]] = [
    {"Origin": OWN},
    {"Origin": ALLOWED_ORIGIN},
    {"Origin": "https://woz.example"},  # WOZ_PUBLIC_URL's origin, as behind a proxy
    {"Sec-Fetch-Site": "same-origin"},
    {"Sec-Fetch-Site": "none"},
]
NOT_JSON: list[dict[str, Any]] = [
    {"data": '{"text": "hi"}', "headers": {"Content-Type": "text/plain"}},
    {"data": {"text": "hi"}},  # application/x-www-form-urlencoded
    {"data": aiohttp.FormData({"text": "hi"}, default_to_multipart=True)},
    {"data": b'{"text": "hi"}', "skip_auto_headers": ["Content-Type"]},
]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        data=tmp_path / "data",
        keepalive_s=0.5,
        disconnect_poll_s=0.05,
        allowed_origins=[ALLOWED_ORIGIN],
        public_url=PUBLIC_URL,
    )


def headers_for(woz: Woz, headers: dict[str, str]) -> dict[str, str]:
    return {name: woz.url if value == OWN else value for name, value in headers.items()}


def assert_refused(status: int, body: Any, code: str = "cross_site_request") -> None:
    assert (status, body["error"]["code"]) == (403 if code == "cross_site_request" else 415, code)
    assert body["error"]["message"]


async def researcher_browser(woz: Woz) -> aiohttp.ClientSession:
    """A cookie jar logged in to the watch view, as a researcher's browser is."""
    browser = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
    async with browser.get(f"{woz.url}/watch/login?token={await researcher_token(woz)}") as got:
        assert got.status == 200
    return browser


async def test_the_watch_view_refuses_changes_from_other_pages(
    woz: Woz, openai_client: openai.AsyncOpenAI
) -> None:
    """A researcher's cookie from another origin neither sends a note nor flags a record."""
    record_id = await answered_record(woz, openai_client)
    operator = await woz.make_operator()
    calls = [
        ("/watch/notice", {"text": "Forged note"}),
        (f"/watch/records/{record_id}/wizard-error", {"note": "forged flag"}),
    ]
    async with await researcher_browser(woz) as browser:
        for headers in REFUSED_HEADERS:
            for path, body in calls:
                async with browser.post(woz.url + path, json=body, headers=headers) as got:
                    assert_refused(got.status, await got.json())
        stored = await woz.store.get_record(record_id)
        assert stored is not None and stored.wizard_error is None
        actions = [e.action for e in await woz.store.list_audit(woz.study.id)]
        assert not [a for a in actions if a.startswith(("operators.", "record."))], actions
        # The first note the operator hears is the page's own, sent after the forgeries.
        own = {"Origin": woz.url}
        async with browser.post(woz.url + calls[0][0], json={"text": "Real"}, headers=own) as got:
            assert got.status == 200
    assert (await operator.expect("notice"))["text"] == "Real"


async def test_the_watch_view_accepts_its_own_origin_the_allow_list_and_the_public_url(
    woz: Woz,
) -> None:
    """Its own page, `WOZ_ALLOWED_ORIGINS`, `WOZ_PUBLIC_URL` and same-origin fetches get through."""
    operator = await woz.make_operator()
    async with await researcher_browser(woz) as browser:
        for n, headers in enumerate(ALLOWED_HEADERS):
            async with browser.post(
                f"{woz.url}/watch/notice",
                json={"text": f"Note {n}"},
                headers=headers_for(woz, headers),
            ) as got:
                assert (got.status, await got.json()) == (200, {"operators": 1}), headers
            assert (await operator.expect("notice"))["text"] == f"Note {n}"


async def test_programs_with_a_key_need_no_origin_but_a_foreign_one_is_refused(woz: Woz) -> None:
    """A bearer key without Origin works; with a foreign Origin it is refused all the same."""
    operator = await woz.make_operator()
    bearer = {"Authorization": f"Bearer {await researcher_token(woz)}"}
    async with aiohttp.ClientSession(headers=bearer) as program:
        url = f"{woz.url}/watch/notice"
        async with program.post(
            url, json={"x": 1}, headers={"Origin": "https://evil.example"}
        ) as got:
            assert_refused(got.status, await got.json())
        async with program.post(url, json={"text": "From a script"}) as got:
            assert got.status == 200
    assert (await operator.expect("notice"))["text"] == "From a script"


async def test_bodies_must_be_declared_json(woz: Woz) -> None:
    """text/plain, form and multipart bodies (what a cross-site form can send) are a 415."""
    operator = await woz.make_operator()
    bearer = {"Authorization": f"Bearer {await researcher_token(woz)}"}
    async with await researcher_browser(woz) as browser, aiohttp.ClientSession() as program:
        for client, auth in ((browser, {"Origin": woz.url}), (program, bearer)):
            for request in NOT_JSON:
                headers = {**auth, **request.get("headers", {})}
                async with client.post(
                    f"{woz.url}/watch/notice", **{**request, "headers": headers}
                ) as got:
                    assert_refused(got.status, await got.json(), "unsupported_media_type")
        async with browser.post(
            f"{woz.url}/watch/notice",
            json={"text": "Real"},
            headers={"Origin": woz.url, "Content-Type": "application/json; charset=utf-8"},
        ) as got:
            assert got.status == 200
    assert (await operator.expect("notice"))["text"] == "Real"


PAGE_ACTIONS: list[tuple[str, Any]] = [
    ("consent", None),  # filled in with the consent the page shows
    ("chat/completions", {"model": "concierge", "messages": [{"role": "user", "content": "Hi"}]}),
    ("start", {}),
    ("end", {}),
    ("debrief", {}),
    ("complete", {}),
    ("refuse", {}),
    ("reconsent", {"granted": False}),
    ("withdraw", {}),
]


@pytest.mark.parametrize("study_toml", [PAGE_STUDY_TOML], indirect=True)
async def test_the_participant_page_refuses_actions_from_other_pages(woz: Woz) -> None:
    """No consent, chat, debrief, reconsent or withdrawal is taken from another origin."""
    async with page_client(woz) as client:
        await client.open()
        consent = (await client.state())["consent"]
        shown = {"version": consent["version"], "text_sha256": consent["text_sha256"]}
        actions = [
            (path, {**shown, "scopes": ["in_study_analysis"]} if body is None else body)
            for path, body in PAGE_ACTIONS
        ]
        for headers in REFUSED_HEADERS:
            for path, body in actions:
                async with client.http.post(
                    f"{client.page}/{path}", json=body, headers={"X-Woz-Page": "1", **headers}
                ) as got:
                    assert_refused(got.status, await got.json())
            for path, body in actions:  # the page's own origin, but not a JSON body
                async with client.http.post(
                    f"{client.page}/{path}",
                    data=json.dumps(body),
                    headers={"X-Woz-Page": "1", "Origin": woz.url, "Content-Type": "text/plain"},
                ) as got:
                    assert_refused(got.status, await got.json(), "unsupported_media_type")
        after = await client.state()
        assert after["consent"]["given"] is False and after["withdrawn"] is False
        assert after["debrief"]["given"] is False and after["debrief"]["reconsent"] is None
        assert after["session"]["started"] is False and after["session"]["completion"] is None
        subject = tombstone_of(client.participant)
    assert await woz.store.list_consents(woz.study.id) == []
    assert await woz.store.list_disclosures(woz.study.id, subject) == []
    assert (await woz.runtime.dispatcher.status()).waiting == 0


@pytest.mark.parametrize("study_toml", [PAGE_STUDY_TOML], indirect=True)
async def test_the_participant_page_accepts_its_own_origin(woz: Woz) -> None:
    """The page's own origin, the allow-list, the public URL and same-origin fetches consent."""
    for headers in ALLOWED_HEADERS:
        async with page_client(woz) as client:
            client.post_headers = {"X-Woz-Page": "1", **headers_for(woz, headers)}
            await client.join()  # asserts the 201
    assert len(await woz.store.list_consents(woz.study.id)) == len(ALLOWED_HEADERS)


@pytest.mark.parametrize(
    ("origin", "status"),
    [("https://woz.example", 101), (ALLOWED_ORIGIN, 101), ("http://127.0.0.1:9", 403)],
)
async def test_the_operator_socket_checks_origins_the_same_way(
    woz: Woz, origin: str, status: int
) -> None:
    """The console's socket trusts `WOZ_PUBLIC_URL` and the allow-list, and no other page."""
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as browser:
        async with browser.get(f"{woz.url}/console/login?token={woz.operator_token}") as got:
            assert got.status == 200
        if status == 101:
            async with browser.ws_connect(f"{woz.url}/operator/ws", origin=origin) as socket:
                assert (await socket.receive_json())["type"] == "hello"
        else:
            with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                await browser.ws_connect(f"{woz.url}/operator/ws", origin=origin)
            assert refused.value.status == status
