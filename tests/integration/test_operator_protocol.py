"""Operator protocol v1 over a real websocket: handshake, auth, bad frames, reply checks."""

from __future__ import annotations

import asyncio

import aiohttp
import openai
import pytest
from pydantic import BaseModel

from tests.conftest import STUDY_TOML, Woz, ask, with_values
from woz.auth.tokens import create_key


async def test_hello_introduces_operator_study_and_snippets(woz: Woz) -> None:
    """The first frame tells the operator who they are (pseudonymously) and what to use."""
    op = await woz.make_operator()
    hello = op.hello
    assert hello["protocol"] == 1
    assert (
        hello["operator"]["id"].startswith("op_") and hello["operator"]["display_name"] == "Olive"
    )
    assert hello["study"] == {"id": "test-study", "title": "A test study"}
    assert hello["snippets"] == [{"key": "1", "label": "Hi", "text": "Hello there!"}]
    assert await op.expect("queue") == {
        "type": "queue",
        "waiting": 0,
        "operators_online": 0,
        "oldest_wait_s": 0.0,
    }


@pytest.mark.parametrize(
    ("headers", "status"),
    [({}, 401), ({"Authorization": "Bearer wrong"}, 401), ({"Cookie": "woz_console=forged"}, 403)],
)
async def test_unauthenticated_sockets_are_refused_before_upgrade(
    woz: Woz, headers: dict[str, str], status: int
) -> None:
    """No token, a wrong token, or a cookie from a foreign origin never get a socket."""
    headers = {**headers, "Origin": "https://evil.example"} if "Cookie" in headers else headers
    async with aiohttp.ClientSession() as session:
        with pytest.raises(aiohttp.WSServerHandshakeError) as caught:
            await session.ws_connect(woz.url + "/operator/ws", headers=headers)
    assert caught.value.status == status


async def test_app_key_is_not_an_operator_token(woz: Woz) -> None:
    """Roles are separate: an app key cannot open the operator socket."""
    async with aiohttp.ClientSession() as session:
        with pytest.raises(aiohttp.WSServerHandshakeError) as caught:
            await session.ws_connect(
                woz.url + "/operator/ws", headers={"Authorization": f"Bearer {woz.app_key}"}
            )
    assert caught.value.status == 401


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("not json", "Not JSON"),
        ('{"type": "dance"}', "type"),
        ('{"type": "reply"}', "task_id"),
        ('{"type": "ready", "capacity": 0}', "capacity"),
        ("[1, 2]", "frame"),
    ],
)
async def test_malformed_frames_get_an_error_and_the_socket_stays(
    woz: Woz, raw: str, message: str
) -> None:
    """A bad frame is answered with an `error` frame; the next good frame still works."""
    op = await woz.make_operator()
    await op.send_raw(raw)
    error = await op.expect("error")
    assert error["code"] == "bad_frame" and message in error["message"]
    await op.ready()
    assert (await op.expect("queue", operators_online=1))["operators_online"] == 1


async def test_reply_to_unknown_task_is_rejected(woz: Woz) -> None:
    """Answering a task one does not hold is refused with a reason."""
    op = await woz.make_operator()
    rejected = await op.reply("task_nope", "hello")
    assert rejected["error"]["code"] == "unknown_task"


class Gift(BaseModel):
    product: str
    price: float


async def test_schema_violations_are_rejected_then_a_valid_reply_parses(
    woz: Woz, openai_client: openai.AsyncOpenAI
) -> None:
    """The server checks a json_schema reply; the SDK's parse() gets the valid one."""
    op = await woz.ready_operator()
    call = asyncio.create_task(
        openai_client.chat.completions.parse(
            model="wizard",
            messages=[{"role": "user", "content": "A gift?"}],
            response_format=Gift,
        )
    )
    task = await op.next_task()
    assert task["response_format"]["type"] == "json_schema"
    bad = await op.reply(task["id"], '{"product": "Scarf"}')
    assert bad["type"] == "reply.rejected" and bad["error"]["code"] == "schema_violation"
    assert "price" in bad["error"]["message"]
    not_json = await op.reply(task["id"], "a scarf")
    assert not_json["error"]["code"] == "invalid_json"
    await op.reply(task["id"], '{"product": "Scarf", "price": 120.5}')
    parsed = (await call).choices[0].message.parsed
    assert parsed == Gift(product="Scarf", price=120.5)


WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    },
}


async def test_tool_choice_is_enforced_on_the_reply(
    woz: Woz, openai_client: openai.AsyncOpenAI
) -> None:
    """tool_choice=required refuses text; a valid call reaches the SDK as tool_calls."""
    op = await woz.ready_operator()
    call = asyncio.create_task(
        openai_client.chat.completions.create(
            model="wizard",
            messages=[{"role": "user", "content": "Weather in Oslo?"}],
            tools=[WEATHER_TOOL],  # type: ignore[list-item]
            tool_choice="required",
        )
    )
    task = await op.next_task()
    assert task["tool_choice"] == {"mode": "required", "name": None}
    text = await op.reply(task["id"], "It is sunny")
    assert text["error"]["code"] == "tool_choice_violation"
    wrong = await op.reply(task["id"], tool_calls=[{"name": "get_weather", "arguments": {}}])
    assert wrong["error"]["code"] == "schema_violation"
    await op.reply(task["id"], tool_calls=[{"name": "get_weather", "arguments": {"city": "Oslo"}}])
    message = (await call).choices[0]
    assert message.finish_reason == "tool_calls"
    [tool_call] = message.message.tool_calls or []
    assert tool_call.function.name == "get_weather"
    assert tool_call.function.arguments == '{"city": "Oslo"}'
    assert tool_call.id.startswith("call_")


AGREEMENT = """
[labor.reuse_agreement]
version = "3"
text = "My answers may be reused as I tick."
"""


async def test_hello_without_an_agreement_says_none(woz: Woz) -> None:
    """The default test study has no reuse agreement: `reuse_agreement` is null."""
    op = await woz.make_operator()
    assert op.hello["reuse_agreement"] is None


@pytest.mark.parametrize(
    "study_toml",
    [
        with_values(
            STUDY_TOML, {"study.permitted_uses": '["in_study_analysis", "internal_model_training"]'}
        )
        + AGREEMENT
    ],
    indirect=True,
)
async def test_reuse_consent_frame_records_the_operators_consent(woz: Woz) -> None:
    """The agreement comes with hello; a consent to an old version or an unpermitted use is
    refused; a valid one is recorded and shown in the next hello."""
    op = await woz.make_operator()
    agreement = op.hello["reuse_agreement"]
    assert agreement == {
        "version": "3",
        "text": "My answers may be reused as I tick.",
        "uses": ["in_study_analysis", "internal_model_training"],
        "required": False,
        "consent": None,
    }
    await op.send({"type": "reuse_consent", "version": "2", "scopes": []})
    error = await op.expect("error", code="consent_refused")
    assert "now version '3'" in error["message"]
    await op.send({"type": "reuse_consent", "version": "3", "scopes": ["commercial_use"]})
    error = await op.expect("error", code="consent_refused")
    assert "['commercial_use'] are not permitted uses" in error["message"]
    await op.send({"type": "reuse_consent", "version": "3", "scopes": ["dance"]})
    assert (await op.expect("error", code="bad_frame"))["message"].startswith(
        "reuse_consent.scopes.0"
    )
    await op.send({"type": "reuse_consent", "version": "3", "scopes": ["internal_model_training"]})
    recorded = (await op.expect("reuse_consent.recorded"))["consent"]
    assert recorded["scopes"] == ["internal_model_training"] and recorded["version"] == "3"
    await op.close()
    again = await woz.make_operator()
    assert again.hello["reuse_agreement"]["consent"] == recorded
    [entry] = [
        e
        for e in await woz.store.list_audit(woz.study.id)
        if e.action == "operator_consent.granted"
    ]
    assert (
        entry.actor == again.hello["operator"]["id"]
        and entry.details["scopes"] == recorded["scopes"]
    )


async def test_ping_is_answered_with_pong(woz: Woz) -> None:
    """A client that suspects a dead connection pings; a live server answers at once."""
    op = await woz.make_operator()
    await op.send({"type": "ping"})
    assert await op.expect("pong", timeout=2) == {"type": "pong"}


async def test_an_operator_reports_a_mistake_in_their_own_answer(
    woz: Woz, openai_client: openai.AsyncOpenAI
) -> None:
    """report_error flags the operator's own record; another's record is refused as unknown."""
    op = await woz.online_operator()
    call = ask(openai_client, "Hi")
    task = await op.next_task()
    ack = await op.reply(task["id"], "Hello from the wrong persona")
    await call
    await op.send({"type": "report_error", "record_id": ack["record_id"], "note": "wrong persona"})
    reported = await op.expect("error_reported")
    assert reported == {
        "type": "error_reported",
        "record_id": ack["record_id"],
        "wizard_error": "reported by the operator: wrong persona",
    }
    record = await woz.store.get_record(ack["record_id"])
    assert record is not None and record.wizard_error == "reported by the operator: wrong persona"

    _, token = await create_key(woz.store, woz.study.id, "operator", "Bea")
    other = await woz.make_operator(token=token)
    await other.send({"type": "report_error", "record_id": ack["record_id"], "note": "not mine"})
    refused = await other.expect("error", code="unknown_record")
    assert refused["message"] == f"you sent no answer recorded as {ack['record_id']!r}"
    await other.send({"type": "report_error", "record_id": ack["record_id"], "note": ""})
    assert (await other.expect("error", code="bad_frame"))["message"].startswith(
        "report_error.note"
    )


LOW_PAY = STUDY_TOML + '\n[labor]\npay_rate = 5.0\npay_floor = 10.0\ncurrency = "EUR"\n'


@pytest.mark.parametrize("study_toml", [LOW_PAY], indirect=True)
async def test_an_operator_sees_their_own_work_and_pay(
    woz: Woz, openai_client: openai.AsyncOpenAI
) -> None:
    """my_work is the operator's line of the labor ledger, with the study's pay terms."""
    op = await woz.online_operator()
    await op.send({"type": "my_work"})
    before = (await op.expect("my_work"))["work"]
    assert before["tasks_answered"] == 0 and before["currency"] == "EUR"
    call = ask(openai_client, "Hi")
    task = await op.next_task()
    await op.reply(task["id"], "Hello")
    await call
    await op.send({"type": "my_work"})
    work = (await op.expect("my_work"))["work"]
    assert work["tasks_answered"] == 1 and work["paid_s"] > 0
    assert work["effective_hourly"] == 5.0 and work["pay_unit"] == "hour"
    assert work["below_floor"] is True  # 5 EUR an hour against a floor of 10

    # Another operator's answers are theirs, not this operator's.
    _, other_token = await create_key(woz.store, woz.study.id, "operator", "Otto")
    other = await woz.ready_operator(token=other_token)
    await op.pause()
    await op.send({"type": "ping"})
    await op.expect("pong")  # frames are handled in order: the pause is in force
    call = ask(openai_client, "Hi again")
    await other.reply((await other.next_task())["id"], "Hello again")
    await call
    await op.send({"type": "my_work"})
    assert (await op.expect("my_work"))["work"]["tasks_answered"] == 1
    await other.send({"type": "my_work"})
    assert (await other.expect("my_work"))["work"]["tasks_answered"] == 1
