"""The page's questionnaire and feedback endpoints: what they accept, refuse and keep."""

from __future__ import annotations

import asyncio

import pytest

from tests.conftest import Woz
from tests.integration.page_client import PAGE_STUDY_TOML, PageClient, page_client

STUDY = (
    PAGE_STUDY_TOML
    + """
[[arms]]
id = "human"

[[arms]]
id = "other"

[[questionnaires]]
id = "pre"
when = "before"
[[questionnaires.items]]
id = "age"
kind = "single"
text = "Your age?"
options = ["under_30", "30_plus"]
required = true

[[questionnaires]]
when = "after"
instrument = "manipulation_check"
arms = ["human"]

[[questionnaires]]
when = "after"
instrument = "sus"
arms = ["other"]
"""
)


@pytest.fixture
def study_toml() -> str:
    return STUDY


async def answered(woz: Woz, client: PageClient) -> str:
    """One chat turn answered by a scripted operator; the record id the page was told."""
    op = await woz.ready_operator()
    body = {"model": "concierge", "messages": [{"role": "user", "content": "hi"}], "stream": True}

    async def turn() -> str:
        async with client.http.post(
            f"{client.page}/chat/completions", json=body, headers=client.post_headers
        ) as response:
            await response.read()
            return response.headers["X-Woz-Record"]

    pending = asyncio.create_task(turn())
    task = await op.next_task()
    await op.reply(task["id"], "hello")
    return await pending


async def test_questionnaires_follow_the_arm_and_are_answered_once(woz: Woz) -> None:
    """Each participant gets the after-questionnaire of their arm (balanced: one each)."""
    arms: dict[str, str] = {}
    for _ in range(2):
        async with page_client(woz) as client:
            await client.open()
            status, body = await client.call("GET", "questionnaires?when=before")
            assert status == 403 and body["error"]["code"] == "consent_required"
            await client.consent()
            status, body = await client.call("GET", "questionnaires?when=before")
            assert [q["id"] for q in body["questionnaires"]] == ["pre"]
            status, body = await client.call("GET", "questionnaires?when=after")
            [after] = body["questionnaires"]
            arm = await woz.store.arm_of(woz.study.id, client.participant)
            assert arm is not None
            arms[arm] = after["id"]
            answers = {"answers": {"age": "30_plus"}}
            assert (await client.call("POST", "questionnaires/pre", answers))[0] == 201
            status, body = await client.call("POST", "questionnaires/pre", answers)
            assert (status, body["error"]["code"]) == (409, "already_submitted")
            _, body = await client.call("GET", "questionnaires?when=before")
            assert body["questionnaires"] == []
            wrong = {"answers": {"author": "ai", "confidence": 50}}
            other = "sus" if after["id"] == "manipulation_check" else "manipulation_check"
            status, body = await client.call("POST", f"questionnaires/{other}", wrong)
            assert status == 400 and "not for this arm" in body["error"]["message"]
    assert arms == {"human": "manipulation_check", "other": "sus"}


@pytest.mark.parametrize(
    ("answers", "param"),
    [({}, "age"), ({"age": "99"}, "age"), ({"age": "30_plus", "shoe": 42}, "shoe")],
)
async def test_answers_the_questionnaire_refuses_name_the_item(
    woz: Woz, answers: dict[str, object], param: str
) -> None:
    async with page_client(woz) as client:
        await client.join()
        status, body = await client.call("POST", "questionnaires/pre", {"answers": answers})
        assert (status, body["error"]["code"], body["error"]["param"]) == (
            400,
            "invalid_answer",
            param,
        )
        status, body = await client.call("POST", "questionnaires/nope", {"answers": {}})
        assert (status, body["error"]["code"]) == (404, "unknown_questionnaire")
        status, body = await client.call("GET", "questionnaires?when=during")
        assert status == 400
    assert await woz.store.list_answers(woz.study.id) == []


async def test_feedback_names_one_of_the_participants_own_answers(woz: Woz) -> None:
    """A thumb on one's own answer is kept and replaced; on another's answer it is a 404;
    withdrawal takes answers and feedback away."""
    async with page_client(woz) as first, page_client(woz) as second:
        await first.join()
        await second.join()
        record = await answered(woz, first)
        assert record.startswith("rec_")
        assert (await first.call("POST", "feedback", {"record": record, "rating": 1}))[0] == 201
        again = {"record": record, "rating": -1, "comment": " meh "}
        assert (await first.call("POST", "feedback", again))[0] == 201
        status, body = await second.call("POST", "feedback", {"record": record, "rating": 1})
        assert (status, body["error"]["code"]) == (404, "unknown_record")
        status, body = await first.call("POST", "feedback", {"record": record, "rating": 0})
        assert (status, body["error"]["code"]) == (400, "invalid_request")
        assert (await first.call("POST", "read", {"record": record}))[0] == 201
        assert (await second.call("POST", "read", {"record": record}))[0] == 404
        assert set(await woz.store.list_reads(woz.study.id)) == {record}
        [kept] = await woz.store.list_feedback(woz.study.id)
        assert (kept.record_id, kept.rating, kept.comment) == (record, -1, "meh")
        await first.call("POST", "questionnaires/pre", {"answers": {"age": "under_30"}})
        assert (await first.call("POST", "withdraw"))[0] == 200
        assert await woz.store.list_feedback(woz.study.id) == []
        assert await woz.store.list_answers(woz.study.id) == []
        assert await woz.store.list_reads(woz.study.id) == {}
        status, body = await first.call("POST", "feedback", {"record": record, "rating": 1})
        assert (status, body["error"]["code"]) == (403, "participant_withdrawn")
