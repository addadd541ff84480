"""Online studies on the participant page, over HTTP: ids from the platform's link, the
session's steps, completion codes, the time limit, and framing by allowed sites only."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest

from tests.conftest import Woz
from tests.integration.page_client import PAGE_STUDY_TOML, PageClient, page_client
from woz.config import Settings
from woz.models.pseudonyms import tombstone_of

PROLIFIC_TOML = (
    PAGE_STUDY_TOML
    + """
[recruitment]
platform = "prolific"
completion_code = "C0MPLETE"
screened_out_code = "NOCONSENT"
timed_out_code = "TIMEDOUT"
pay = 2.5
expected_minutes = 10

[embedding]
allow = ["https://*.qualtrics.com", "http://127.0.0.1:9"]
"""
)
PID = "5f1e0c0ffee0c0ffee0c0ffe"
LINK = f"?PROLIFIC_PID={PID}&STUDY_ID=st-1&SESSION_ID=sess-1"
RETURN = "https://app.prolific.com/submissions/complete?cc="


async def answered_turn(woz: Woz, client: PageClient, question: str, answer: str) -> None:
    op = await woz.ready_operator()
    chat = asyncio.create_task(client.chat(question))
    task = await op.next_task()
    await op.reply(task["id"], answer)
    status, _ = await asyncio.wait_for(chat, 10)
    assert status == 200


@pytest.mark.parametrize("study_toml", [PROLIFIC_TOML], indirect=True)
async def test_a_prolific_link_names_the_participant_and_ends_with_the_code(
    woz: Woz, settings: Settings
) -> None:
    """The Prolific id becomes the pseudonym (never stored raw); the session id is kept with
    the consent; the page, without cookies, goes through to Prolific's completion URL."""
    async with page_client(woz, cookies=False) as client:
        await client.open(LINK)
        assert client.participant == woz.runtime.participants.pseudonym_of(PID)
        state = await client.consent()
        status, state = await client.call("POST", "start")
        assert status == 200 and state["session"]["started"] is True
        assert state["session"]["seconds_left"] is None
        await answered_turn(woz, client, "Hello?", "Hi, how can I help?")
        status, state = await client.call("POST", "complete")
        assert status == 409 and state["error"]["code"] == "chat_not_ended"
        status, state = await client.end()
        assert state["debrief"]["given"] is True and state["session"]["completion"] is None
        status, state = await client.call("POST", "complete")
        assert status == 200
        assert state["session"]["completion"] == {
            "outcome": "completed",
            "code": "C0MPLETE",
            "return_url": RETURN + "C0MPLETE",
        }
        status, [body] = await client.chat("One more?")
        assert status == 409 and body["error"]["code"] == "session_ended"
    [session] = await woz.store.list_page_sessions(woz.study.id)
    [consent] = await woz.store.list_consents(woz.study.id)
    assert session.platform_session == "sess-1" and session.platform_study == "st-1"
    assert session.consent_id == consent.id and session.outcome == "completed"
    [granted] = [
        e for e in await woz.store.list_audit(woz.study.id) if e.action == "consent.granted"
    ]
    assert granted.details["platform_session"] == "sess-1"
    assert granted.details["consent_id"] == consent.id
    finished = [e for e in await woz.store.list_audit(woz.study.id) if e.action == "page.finished"]
    assert [e.details for e in finished] == [{"outcome": "completed", "code": "C0MPLETE"}]
    if settings.database_url is None:
        with sqlite3.connect(settings.database) as db:
            dump = "\n".join(db.iterdump())
        assert PID not in dump


@pytest.mark.parametrize("study_toml", [PROLIFIC_TOML], indirect=True)
async def test_coming_back_resumes_and_a_finished_session_stays_finished(woz: Woz) -> None:
    """The same id later (another browser) finds the same conversation; after the end, the
    same code again, and no new session."""
    async with page_client(woz, cookies=False) as first:
        await first.open(LINK)
        await first.consent()
        await first.call("POST", "start")
        await answered_turn(woz, first, "Is it raining?", "Not today.")
    async with page_client(woz, cookies=False) as again:
        await again.open(LINK)
        state = await again.state()
        assert state["consent"]["given"] is True and state["session"]["started"] is True
        assert state["session"]["transcript"] == [
            {"role": "user", "content": "Is it raining?"},
            {"role": "assistant", "content": "Not today."},
        ]
        await again.call("POST", "end")
        status, body = await again.call("POST", "complete")
        assert status == 409 and body["error"]["code"] == "debrief_first"
        await again.call("POST", "debrief")
        status, done = await again.call("POST", "complete")
    async with page_client(woz, cookies=False) as third:
        await third.open(LINK)
        state = await third.state()
        assert state["session"]["completion"] == done["session"]["completion"]
        status, body = await third.call("POST", "start")
        assert status == 409 and body["error"]["code"] == "session_ended"
    assert len(await woz.store.list_page_sessions(woz.study.id)) == 1


@pytest.mark.parametrize("study_toml", [PROLIFIC_TOML], indirect=True)
async def test_refusing_consent_screens_out_and_withdrawal_keeps_the_code(woz: Woz) -> None:
    """ "I do not agree" ends the session with the screen-out code; a participant who
    consented withdraws instead; a withdrawn participant's code is still shown."""
    async with page_client(woz, cookies=False) as refusing:
        await refusing.open("?PROLIFIC_PID=someone-else&SESSION_ID=s2")
        status, state = await refusing.call("POST", "refuse")
        assert status == 200 and state["session"]["completion"]["code"] == "NOCONSENT"
        assert state["session"]["completion"]["return_url"] == RETURN + "NOCONSENT"
    async with page_client(woz, cookies=False) as client:
        await client.open(LINK)
        await client.consent()
        status, body = await client.call("POST", "refuse")
        assert status == 409 and body["error"]["code"] == "consent_given"
        await client.call("POST", "start")
        await client.end()
        await client.call("POST", "complete")
        status, state = await client.call("POST", "withdraw")
        assert state["withdrawn"] is True
        assert state["session"]["completion"]["code"] == "C0MPLETE"
    sessions = {s.platform_session: s for s in await woz.store.list_page_sessions(woz.study.id)}
    assert sessions["s2"].outcome == "screened_out" and sessions["s2"].consent_id is None
    assert sessions["sess-1"].participant is None and sessions["sess-1"].code == "C0MPLETE"
    participant = woz.runtime.participants.pseudonym_of(PID)
    assert sessions["sess-1"].subject == tombstone_of(participant)


TIMED_TOML = PROLIFIC_TOML.replace("pay = 2.5", "pay = 2.5\ntime_limit_minutes = 0.01")


@pytest.mark.parametrize("study_toml", [TIMED_TOML], indirect=True)
async def test_the_time_limit_ends_the_chat_with_the_timed_out_code(woz: Woz) -> None:
    """An early "time is up" counts as the participant's end; once the limit has passed
    the chat is refused and the session ends timed out."""
    async with page_client(woz, cookies=False) as early:
        await early.open("?PROLIFIC_PID=early&SESSION_ID=s-early")
        await early.consent()
        status, state = await early.call("POST", "start")
        assert 0 < state["session"]["seconds_left"] <= 0.6
        assert state["session"]["time_limit_s"] == pytest.approx(0.6)
    async with page_client(woz, cookies=False) as client:
        await client.open(LINK)
        await client.consent()
        _, state = await client.call("POST", "start")
        # The time limit is a clock: wait it out (it is what is under test).
        await asyncio.sleep(state["session"]["seconds_left"] + 0.05)
        status, [body] = await client.chat("Still there?")
        assert status == 409 and body["error"]["code"] == "time_limit_reached"
        state = await client.state()
        assert state["session"]["ended"] is True and state["session"]["ended_by"] == "time_limit"
        await client.call("POST", "debrief")
        status, state = await client.call("POST", "complete")
        assert state["session"]["completion"]["code"] == "TIMEDOUT"


ARMS_TOML = (
    PROLIFIC_TOML
    + """
[[arms]]
id = "human"
mode = "human"

[[arms]]
id = "fast"
mode = "human"

[conditions]
assignment = "fixed"

[recruitment.arm_codes]
fast = "FASTDONE"
"""
)


@pytest.mark.parametrize("study_toml", [ARMS_TOML], indirect=True)
async def test_a_fixed_arm_from_the_link_and_its_completion_code(woz: Woz) -> None:
    """`?arm=` assigns a fixed arm once (a later link cannot change it); the arm's code ends."""
    async with page_client(woz, cookies=False) as client:
        await client.open(LINK + "&arm=fast")
        await client.open(LINK + "&arm=human")  # an arm never changes
        await client.consent()
        await client.call("POST", "start")
        await answered_turn(woz, client, "Hello?", "Hello!")
        await client.end()
        _, state = await client.call("POST", "complete")
        assert state["session"]["completion"]["code"] == "FASTDONE"
    participant = woz.runtime.participants.pseudonym_of(PID)
    assert await woz.store.arm_of(woz.study.id, participant) == "fast"
    [record] = await woz.store.list_records(woz.study.id)
    assert record.arm == "fast"


@pytest.mark.parametrize("study_toml", [PROLIFIC_TOML], indirect=True)
async def test_only_the_participant_page_may_be_framed_by_allowed_sites(woz: Woz) -> None:
    """`frame-ancestors` lists `[embedding] allow` on the page; the console and the watch
    view stay unframeable."""
    async with page_client(woz) as client:
        response = await client.open(LINK)
        policy = response.headers["Content-Security-Policy"]
        assert "frame-ancestors https://*.qualtrics.com http://127.0.0.1:9;" in policy
        for path in ("/console", "/watch"):
            async with client.http.get(woz.url + path) as other:
                assert "frame-ancestors 'none'" in other.headers["Content-Security-Policy"]


async def test_without_embedding_the_page_is_unframeable_and_links_are_optional(woz: Woz) -> None:
    """A study with no [embedding] keeps `frame-ancestors 'none'`; a link with no id makes a
    participant as before (storing nothing until they act: a link previewer leaves no trace),
    and their session ends with no code and no return address."""
    async with page_client(woz) as client:
        response = await client.open()
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
        assert (await client.state())["session"]["started"] is False
        assert await woz.store.list_page_sessions(woz.study.id) == []
        _, state = await client.call("POST", "refuse")
        assert state["session"]["completion"] == {
            "outcome": "screened_out",
            "code": "",
            "return_url": "",
        }


@pytest.mark.parametrize(
    "study_toml", [PROLIFIC_TOML.replace('"prolific"', '"mturk"')], indirect=True
)
async def test_an_mturk_preview_records_nothing(woz: Woz) -> None:
    """Before the worker accepts the HIT the page says so, with no token and no session."""
    async with page_client(woz) as client:
        response = await client.open("?assignmentId=ASSIGNMENT_ID_NOT_AVAILABLE&hitId=h1")
        assert response.status == 200 and client.token is None and client.cookie is None
        async with client.http.get(client.page + client.query) as again:
            assert '<meta name="woz-preview" content="1">' in await again.text()
    assert await woz.store.list_page_sessions(woz.study.id) == []


@pytest.mark.parametrize("study_toml", [ARMS_TOML], indirect=True)
async def test_a_withdrawn_participant_coming_back_leaves_no_pseudonym(
    woz: Woz, settings: Settings
) -> None:
    """Withdrawn (here, before ever visiting the page), the same link again stores neither
    their pseudonym nor an arm: the page only says they withdrew."""
    participant = woz.runtime.participants.pseudonym_of(PID)
    await woz.runtime.participants.withdraw(participant, "test")
    async with page_client(woz, cookies=False) as client:
        await client.open(LINK + "&arm=fast")
        state = await client.state()
        assert state["withdrawn"] is True and "participant" not in state
        assert state["session"]["id"] is None
    [session] = await woz.store.list_page_sessions(woz.study.id)
    assert session.participant is None and session.subject == tombstone_of(participant)
    assert await woz.store.arm_of(woz.study.id, participant) is None
    if settings.database_url is None:
        with sqlite3.connect(settings.database) as db:
            assert participant not in "\n".join(db.iterdump())
