"""The researcher's watch view: what `/watch/state` shows of a live study, and who may see it."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import openai
import pytest

from tests.conftest import Woz, ask
from woz.auth.tokens import create_key
from woz.web.watch import WATCH_COOKIE

WAIT_S = 10.0


async def researcher_token(woz: Woz, name: str = "Rita") -> str:
    _, token = await create_key(woz.store, woz.study.id, "researcher", name)
    return token


async def watch_state(session: aiohttp.ClientSession, woz: Woz, token: str) -> dict[str, Any]:
    async with session.get(
        f"{woz.url}/watch/state", headers={"Authorization": f"Bearer {token}"}
    ) as response:
        assert response.status == 200, await response.text()
        body: dict[str, Any] = await response.json()
        return body


async def test_watch_follows_a_request_from_queue_to_record(
    woz: Woz, openai_client: openai.AsyncOpenAI
) -> None:
    token = await researcher_token(woz)
    operator = await woz.online_operator()
    question = "Is <b>the café</b> open?"
    pending = ask(openai_client, question, extra_headers={"X-Woz-Participant": "ext-participant-7"})
    task = await operator.next_task()

    async with aiohttp.ClientSession() as session:
        state = await watch_state(session, woz, token)  # assigned before the operator heard
        assert state["study"] == {"id": "test-study", "title": "A test study"}
        [live] = state["tasks"]
        assert live["task_id"] == task["id"]
        assert live["status"] == "with_operator"
        assert live["operator_name"] == "Olive"
        assert live["last_message"] == question
        assert live["persona"] == "wizard"
        # Pseudonymous, as in the records: the app's own id never appears.
        assert live["participant"] and live["participant"] != "ext-participant-7"
        [present] = state["operators"]
        assert present["name"] == "Olive" and present["ready"] and present["holding"] == 1
        assert present["operator"] == live["operator"]

        await operator.typing(task["id"], "Yes, until")
        await operator.send({"type": "ping"})
        await operator.expect("pong")  # frames are handled in order: the typing was seen
        state = await watch_state(session, woz, token)
        assert state["tasks"][0]["draft"] == "Yes, until"

        await operator.reply(task["id"], "Yes, until 6 pm.")
        completion = await asyncio.wait_for(pending, WAIT_S)
        assert completion.choices[0].message.content == "Yes, until 6 pm."
        state = await watch_state(session, woz, token)
        assert state["tasks"] == []
        [record] = state["recent"]
        assert record["answer"] == "Yes, until 6 pm."
        assert record["last_message"] == question
        assert record["produced_by"] == "human"
        assert record["status"] == "delivered"
        assert record["operator"] == live["operator"]
        assert record["operator_name"] == "Olive"
        assert record["participant"] == live["participant"]
        stored = await woz.store.get_record(record["id"])
        assert stored is not None and stored.task_id == task["id"]


async def test_a_waiting_task_and_an_operator_in_their_reconnect_grace(
    woz: Woz, openai_client: openai.AsyncOpenAI
) -> None:
    token = await researcher_token(woz)
    operator = await woz.online_operator()
    # A second operator, connected but not ready, hears the queue figures change.
    _, onlooker_token = await create_key(woz.store, woz.study.id, "operator", "Otto")
    onlooker = await woz.make_operator(onlooker_token)
    pending = ask(openai_client, "First?")
    task = await operator.next_task()
    async with aiohttp.ClientSession() as session:
        await operator.drop()
        await onlooker.expect("queue", operators_online=0)
        state = await watch_state(session, woz, token)
        assert state["tasks"][0]["status"] == "operator_away"
        away = [op for op in state["operators"] if op["name"] == "Olive" and not op["connected"]]
        assert away and away[0]["holding"] == 1
        # After the grace (1 s in the test study) nobody holds it: it waits in the queue.
        await onlooker.expect("queue", waiting=1)
        state = await watch_state(session, woz, token)
        [waiting] = state["tasks"]
        assert waiting["task_id"] == task["id"]
        assert (waiting["status"], waiting["operator"], waiting["attempt"]) == ("waiting", None, 2)
        assert state["queue"]["waiting"] == 1
        assert [op["connected"] for op in state["operators"]] == [True]
    pending.cancel()
    with pytest.raises(asyncio.CancelledError):
        await pending


async def test_only_researchers_get_in(woz: Woz) -> None:
    token = await researcher_token(woz)
    async with aiohttp.ClientSession() as session:
        for headers in ({}, {"Authorization": f"Bearer {woz.app_key}"}):
            async with session.get(f"{woz.url}/watch/state", headers=headers) as response:
                assert response.status == 401
                assert (await response.json())["error"]["code"] == "not_logged_in"
        bearer = {"Authorization": f"Bearer {woz.operator_token}"}
        async with session.get(f"{woz.url}/watch/state", headers=bearer) as response:
            assert response.status == 401

        login = f"{woz.url}/watch/login?token="
        for wrong in (woz.operator_token, woz.app_key, "nonsense"):
            async with session.get(login + wrong, allow_redirects=False) as response:
                assert response.status == 401
                assert "researcher key" in await response.text()

    # `unsafe`: the jar keeps cookies of an IP address, as a browser does.
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as browser:
        async with browser.get(login + token, allow_redirects=False) as response:
            assert response.status == 302
            assert response.headers["Location"] == "/watch/"
            session_value = response.cookies[WATCH_COOKIE].value
            assert response.cookies[WATCH_COOKIE]["httponly"]
        async with browser.get(f"{woz.url}/watch/state") as response:
            assert response.status == 200
            assert (await response.json())["tasks"] == []
        async with browser.get(f"{woz.url}/watch/") as response:
            assert "script-src 'self'" in response.headers["Content-Security-Policy"]

    # A researcher's session is not an operator's: it cannot open the operator hub.
    async with aiohttp.ClientSession(cookies={"woz_console": session_value}) as stranger:
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await stranger.ws_connect(f"{woz.url}/operator/ws", origin=woz.url)
        assert refused.value.status == 401
        async with stranger.get(f"{woz.url}/console/session") as response:
            assert response.status == 401


async def test_a_long_queue_lists_the_oldest_and_counts_the_rest(
    woz: Woz, openai_client: openai.AsyncOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("woz.web.watch.LISTED_TASKS", 2)
    token = await researcher_token(woz)
    operator = await woz.online_operator()
    _, onlooker_token = await create_key(woz.store, woz.study.id, "operator", "Otto")
    onlooker = await woz.make_operator(onlooker_token)
    pending = [ask(openai_client, f"Question {n}?") for n in range(3)]
    await operator.next_task()
    await onlooker.expect("queue", waiting=2)
    async with aiohttp.ClientSession() as session:
        state = await watch_state(session, woz, token)
    assert state["in_flight"] == 3
    assert [t["status"] for t in state["tasks"]] == ["with_operator", "waiting"]
    assert state["queue"]["waiting"] == 2
    for call in pending:
        call.cancel()
    await asyncio.gather(*pending, return_exceptions=True)


async def answered_record(woz: Woz, openai_client: openai.AsyncOpenAI) -> str:
    operator = await woz.online_operator()
    pending = ask(openai_client, "Recommend a wine?")
    task = await operator.next_task()
    ack = await operator.reply(task["id"], "Any red will do.")
    await asyncio.wait_for(pending, WAIT_S)
    return str(ack["record_id"])


async def test_a_researcher_flags_a_wizard_error_and_clears_it(
    woz: Woz, openai_client: openai.AsyncOpenAI
) -> None:
    token = await researcher_token(woz)
    record_id = await answered_record(woz, openai_client)
    url = f"{woz.url}/watch/records/{record_id}/wizard-error"
    bearer = {"Authorization": f"Bearer {token}"}
    async with aiohttp.ClientSession() as session:
        async with session.post(url, json={"note": "guessed instead of asking"}) as response:
            assert response.status == 401  # no researcher key or session
        for body, problem in (
            ({"note": "   "}, "say why"),
            ({"reason": "x"}, "note"),
            ({"note": "x" * 2001}, "note"),
        ):
            async with session.post(url, json=body, headers=bearer) as response:
                assert response.status == 400
                error = (await response.json())["error"]
                assert error["code"] == "invalid_body" and problem in error["message"]
        as_json = {**bearer, "Content-Type": "application/json"}
        async with session.post(url, data=b"{not json", headers=as_json) as response:
            assert response.status == 400
        unknown = f"{woz.url}/watch/records/rec_nonexistent/wizard-error"
        async with session.post(unknown, json={"note": "x"}, headers=bearer) as response:
            assert response.status == 404
            assert (await response.json())["error"]["code"] == "unknown_record"

        async with session.post(
            url, json={"note": "guessed instead of asking"}, headers=bearer
        ) as response:
            assert response.status == 200
        stored = await woz.store.get_record(record_id)
        assert stored is not None and stored.wizard_error == "guessed instead of asking"
        [seen] = (await watch_state(session, woz, token))["recent"]
        assert seen["wizard_error"] == "guessed instead of asking"

        async with session.post(url, json={"note": None}, headers=bearer) as response:
            assert response.status == 200
        stored = await woz.store.get_record(record_id)
        assert stored is not None and stored.wizard_error is None
    trail = await woz.store.list_audit(woz.study.id)
    flags = [(e.action, e.actor) for e in trail if e.action.startswith("record.wizard_error")]
    key_id = next(k.id for k in await woz.store.list_keys(woz.study.id) if k.role == "researcher")
    assert flags == [
        ("record.wizard_error", f"researcher:{key_id}"),
        ("record.wizard_error_cleared", f"researcher:{key_id}"),
    ]


async def test_the_whole_conversation_of_a_task_and_of_a_record(
    woz: Woz, openai_client: openai.AsyncOpenAI
) -> None:
    token = await researcher_token(woz)
    operator = await woz.online_operator()
    history = [
        {"role": "system", "content": "You are a concierge."},
        {"role": "user", "content": "Hi"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "lookup", "arguments": '{"q": "hours"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": "open 9-17"},
        {"role": "user", "content": [{"type": "text", "text": "And <i>Sunday</i>?"}]},
    ]
    pending = asyncio.create_task(
        openai_client.chat.completions.create(model="wizard", messages=history)  # type: ignore[arg-type]
    )
    task = await operator.next_task()
    expected = [
        {"role": "system", "text": "You are a concierge."},
        {"role": "user", "text": "Hi"},
        {"role": "assistant", "text": '[lookup({"q": "hours"})]'},
        {"role": "tool", "text": "open 9-17"},
        {"role": "user", "text": "And <i>Sunday</i>?"},
    ]
    bearer = {"Authorization": f"Bearer {token}"}
    async with aiohttp.ClientSession(headers=bearer) as session:
        [live] = (await watch_state(session, woz, token))["tasks"]
        assert live["turns"] == 5
        async with session.get(f"{woz.url}/watch/tasks/{task['id']}") as response:
            assert (await response.json()) == {"id": task["id"], "messages": expected}

        ack = await operator.reply(task["id"], "Closed on Sundays.")
        await asyncio.wait_for(pending, WAIT_S)
        async with session.get(f"{woz.url}/watch/tasks/{task['id']}") as response:
            assert response.status == 404  # answered: it is a record now
        async with session.get(f"{woz.url}/watch/records/{ack['record_id']}") as response:
            body = await response.json()
        assert body["messages"] == [*expected, {"role": "assistant", "text": "Closed on Sundays."}]
        async with session.get(f"{woz.url}/watch/records/rec_nonexistent") as response:
            assert response.status == 404
    record_url = f"{woz.url}/watch/records/{ack['record_id']}"
    async with aiohttp.ClientSession() as stranger, stranger.get(record_url) as response:
        assert response.status == 401


async def test_following_one_participant(woz: Woz, openai_client: openai.AsyncOpenAI) -> None:
    token = await researcher_token(woz)
    operator = await woz.online_operator()
    ask_as = {"X-Woz-Participant": "ada"}
    first = ask(openai_client, "Ada's question", extra_headers=ask_as)
    ada_task = await operator.next_task()
    await operator.reply(ada_task["id"], "Ada's answer")
    await asyncio.wait_for(first, WAIT_S)
    ada_again = ask(openai_client, "Ada again", extra_headers=ask_as)
    await operator.next_task()
    _, other_token = await create_key(woz.store, woz.study.id, "operator", "Otto")
    other = await woz.ready_operator(token=other_token)
    bob = ask(openai_client, "Bob's question", extra_headers={"X-Woz-Participant": "bob"})
    await other.next_task()
    async with aiohttp.ClientSession() as session:
        everyone = await watch_state(session, woz, token)
        assert everyone["in_flight"] == 2 and everyone["participant"] is None
        ada = ada_task["participant"]
        assert ada and ada != "ada"
        async with session.get(
            f"{woz.url}/watch/state",
            params={"participant": ada},
            headers={"Authorization": f"Bearer {token}"},
        ) as response:
            theirs = await response.json()
    assert theirs["participant"] == ada
    assert [t["last_message"] for t in theirs["tasks"]] == ["Ada again"]
    assert theirs["in_flight"] == 1
    assert [r["last_message"] for r in theirs["recent"]] == ["Ada's question"]
    # The test study's answer timeout is 30 s.
    assert 0 < theirs["tasks"][0]["expires_in_s"] <= 30
    for call in (ada_again, bob):
        call.cancel()
    await asyncio.gather(ada_again, bob, return_exceptions=True)


async def test_a_note_reaches_every_connected_operator(woz: Woz) -> None:
    token = await researcher_token(woz, name="Rita")
    first = await woz.make_operator()
    _, other_token = await create_key(woz.store, woz.study.id, "operator", "Otto")
    second = await woz.make_operator(other_token)
    url = f"{woz.url}/watch/notice"
    bearer = {"Authorization": f"Bearer {token}"}
    async with aiohttp.ClientSession(headers=bearer) as session:
        async with session.post(
            url, json={"text": "Participant 3 is a pilot: take your time."}
        ) as response:
            assert response.status == 200 and await response.json() == {"operators": 2}
        for bad in ({"text": ""}, {"text": "   "}, {"text": "x" * 1001}, {"note": "x"}):
            async with session.post(url, json=bad) as response:
                assert response.status == 400
                assert (await response.json())["error"]["code"] == "invalid_body"
    async with (
        aiohttp.ClientSession() as stranger,
        stranger.post(url, json={"text": "hi"}) as response,
    ):
        assert response.status == 401
    for operator in (first, second):
        notice = await operator.expect("notice")
        assert notice["text"] == "Participant 3 is a pilot: take your time."
        assert notice["sender"] == "Rita" and notice["at"]
    [entry] = [
        e for e in await woz.store.list_audit(woz.study.id) if e.action == "operators.notice"
    ]
    assert entry.details == {"text": "Participant 3 is a pilot: take your time.", "operators": 2}
