"""The operator chosen for a Realtime session hears it live from its first utterance:
the `voice_session` frame comes before any task, and only that operator may listen."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import openai
import pytest
from aiohttp.test_utils import TestServer
from openai.resources.realtime.realtime import AsyncRealtimeConnection

from tests.conftest import STUDY_TOML, Woz, start_woz, with_values
from tests.integration.realtime_client import Events, opened, silence, stream, tone
from tests.integration.test_models_and_arms import arms
from tests.integration.test_studies import client, operator, two_studies
from woz.auth.tokens import create_key
from woz.config import Settings
from woz.media.speech.pcm import rms
from woz.store.arms import ArmDraw
from woz.testing import ScriptedOperator

VOICE_TOML = STUDY_TOML + '\n[voice]\nengine = "espeak"\n'
voice_study = pytest.mark.parametrize("study_toml", [VOICE_TOML], indirect=True)
CONSENT_REQUIRED = {
    "study.consent_required": "true",
    "study.permitted_uses": '["in_study_analysis"]',
}


@asynccontextmanager
async def listening(
    url: str, session_id: str, token: str
) -> AsyncIterator[aiohttp.ClientWebSocketResponse]:
    headers = {"Authorization": f"Bearer {token}"}
    ws_url = url.replace("http", "ws") + f"/operator/voice/{session_id}"
    async with aiohttp.ClientSession() as http, http.ws_connect(ws_url, headers=headers) as ws:
        yield ws


async def hear_until(ws: aiohttp.ClientWebSocketResponse, state: str) -> tuple[list[str], bytes]:
    """The state frames and the audio heard on `ws` up to the state `state`."""
    states: list[str] = []
    heard = b""
    while state not in states:
        message = await ws.receive(timeout=10)
        if message.type == aiohttp.WSMsgType.BINARY:
            heard += message.data
        else:
            assert message.type == aiohttp.WSMsgType.TEXT, message
            states.append(json.loads(message.data)["type"])
    return states, heard


async def refused(url: str, session_id: str, token: str) -> int:
    """The status the listen socket is refused with for `token`."""
    with pytest.raises(aiohttp.WSServerHandshakeError) as refusal:
        async with listening(url, session_id, token):
            pass
    return refusal.value.status


async def no_voice_session(op: ScriptedOperator) -> None:
    """`op` was told of no voice session (every frame sent before its `pong` is read)."""
    await op.send({"type": "ping"})
    await op.expect("pong")
    with pytest.raises(AssertionError):
        await op.expect("voice_session", timeout=0.01)


@voice_study
async def test_the_first_utterance_is_heard_live_before_its_task(
    woz: Woz, openai_client: openai.AsyncOpenAI
) -> None:
    """The operator learns of the session when it opens, hears the first utterance while
    it is spoken (before it is committed), then gets its task by affinity."""
    op = await woz.online_operator()
    async with opened(openai_client, "wizard") as (conn, events):
        notice = await op.expect("voice_session")
        assert notice["model"] == "wizard" and notice["conversation_id"]
        session_id = notice["session_id"]
        async with listening(woz.url, session_id, woz.operator_token) as ws:
            await stream(conn, silence(0.2) + tone(0.8))  # still speaking: nothing committed
            states, heard = await hear_until(ws, "speech_started")
            while len(heard) < 24_000:  # half a second of the utterance, as it is spoken
                message = await ws.receive(timeout=10)
                assert message.type == aiohttp.WSMsgType.BINARY
                heard += message.data
            assert states == ["speech_started"] and rms(heard[-9600:]) > 1000
            assert not op.held  # no task yet: the utterance is not over
            await stream(conn, silence(0.8))
            more, _ = await hear_until(ws, "committed")
            assert more == ["speech_stopped", "committed"]
            task = await op.next_task()
            assert task["voice"]["session_id"] == session_id
            assert task["conversation_id"] == notice["conversation_id"]
            await op.reply(task["id"], "Yes?")
            await events.until("response.done")
        assert op.unparsed == []  # the frame is part of the typed protocol


@voice_study
async def test_only_the_operator_chosen_hears_the_session(
    woz: Woz, openai_client: openai.AsyncOpenAI
) -> None:
    """A second operator of the study gets no frame and a 404, as does an unknown session."""
    first = await woz.online_operator()
    _, token = await create_key(woz.store, woz.study.id, "operator", "Otto")
    second = await woz.ready_operator(token=token)
    await second.expect("queue", operators_online=2)
    async with opened(openai_client, "wizard") as (conn, events):
        notice = await first.expect("voice_session")
        session_id = notice["session_id"]
        assert await refused(woz.url, session_id, token) == 404
        assert await refused(woz.url, "sess_000000000000", woz.operator_token) == 404
        async with listening(woz.url, session_id, woz.operator_token) as ws:
            await stream(conn, silence(0.2) + tone(0.5) + silence(0.8))
            await hear_until(ws, "committed")
        task = await first.next_task()
        await first.reply(task["id"], "Yes?")
        await events.until("response.done")
    await no_voice_session(second)


@voice_study
async def test_with_no_operator_ready_the_first_to_be_ready_hears_the_session(
    woz: Woz, openai_client: openai.AsyncOpenAI
) -> None:
    """A session opened while nobody was ready is announced to the first operator to
    become ready, who then hears its first utterance live; a session that ended by then
    is announced to no one."""
    async with opened(openai_client, "wizard"):
        pass  # ended before anyone was ready
    async with opened(openai_client, "wizard") as (conn, events):
        op: ScriptedOperator = await woz.online_operator()
        notice = await op.expect("voice_session")
        async with listening(woz.url, notice["session_id"], woz.operator_token) as ws:
            await stream(conn, silence(0.2) + tone(0.6))
            states, heard = await hear_until(ws, "speech_started")
            assert not op.held and not heard  # nothing before the speech started
            await stream(conn, silence(0.8))
            more, _ = await hear_until(ws, "committed")
        assert states + more == ["speech_started", "speech_stopped", "committed"]
        task = await op.next_task()
        assert task["voice"]["session_id"] == notice["session_id"]
        await op.reply(task["id"], "Yes?")
        await events.until("response.done")
    await no_voice_session(op)  # not the ended session


@pytest.mark.parametrize("study_toml", [with_values(VOICE_TOML, CONSENT_REQUIRED)], indirect=True)
async def test_a_participant_without_consent_is_not_announced(
    woz: Woz, openai_client: openai.AsyncOpenAI
) -> None:
    """Nobody hears a participant before the study's consent allows a task of theirs."""
    op = await woz.online_operator()
    async with opened(openai_client, "wizard") as (conn, events):
        await stream(conn, silence(0.2) + tone(0.5) + silence(0.8))
        got = await events.until("response.done")
    assert got[-1]["response"]["status"] == "failed"  # consent_required, as for chat
    await no_voice_session(op)


async def test_an_operator_of_another_study_never_hears_the_session(
    aiohttp_server: Callable[..., Awaitable[TestServer]], settings: Settings
) -> None:
    """Two studies on one server: a session of one is announced to its own operator
    only, and the other study's operator is refused its socket."""
    async with two_studies(aiohttp_server, settings) as (server, alpha, beta):
        ours, theirs = (
            await operator(server, alpha.operator_token),
            await operator(server, beta.operator_token),
        )
        url = str(server.make_url("")).rstrip("/")
        async with client(server, alpha.app_key) as app, opened(app, "wizard"):
            notice = await ours.expect("voice_session")
            assert await refused(url, notice["session_id"], beta.operator_token) == 404
            async with listening(url, notice["session_id"], alpha.operator_token):
                pass  # its own operator may
        await no_voice_session(theirs)


@voice_study
async def test_a_console_that_connects_again_is_told_of_its_session_again(
    woz: Woz, openai_client: openai.AsyncOpenAI
) -> None:
    """A reloaded console (its socket dropped and opened again) learns again of the
    session it was chosen for, and still hears its first utterance live."""
    op = await woz.online_operator()
    async with opened(openai_client, "wizard") as (conn, events):
        notice = await op.expect("voice_session")
        await op.reconnect()
        again = await op.expect("voice_session")
        assert again["session_id"] == notice["session_id"]
        await op.ready()
        async with listening(woz.url, notice["session_id"], woz.operator_token) as ws:
            await stream(conn, silence(0.2) + tone(0.5) + silence(0.8))
            states, heard = await hear_until(ws, "committed")
        assert states == ["speech_started", "speech_stopped", "committed"] and heard
        task = await op.next_task()
        await op.reply(task["id"], "Yes?")
        await events.until("response.done")


async def spoken_turn(conn: AsyncRealtimeConnection, events: Events) -> dict[str, Any]:
    """One utterance, answered without an operator: the response it ends with."""
    await stream(conn, silence(0.2) + tone(0.5) + silence(0.8))
    done = await events.until("response.done")
    response: dict[str, Any] = done[-1]["response"]
    return response


def arms_study(upstream: TestServer, assignment: str) -> str:
    """The voice study under an experiment: a human arm and an arm the fake model answers."""
    url = upstream.make_url("/v1")
    fake = f'\n[[upstreams]]\nid = "fake"\nmodel = "fake-1"\nbase_url = "{url}"\n'
    return VOICE_TOML + fake + arms(assignment=assignment)


async def test_a_participant_is_assigned_their_arm_when_their_session_opens(
    aiohttp_server: Callable[..., Awaitable[TestServer]], upstream: TestServer
) -> None:
    """Seeded arms: the opening of a participant's first session assigns their arm. The
    one in the human arm is announced and heard live from their first utterance, and
    their task keeps that arm; the one the model answers is announced to no one."""
    draw = ArmDraw("balanced", ("human-arm", "model-arm"), 7)  # the study's seed
    order = {draw.choose(0): "first", draw.choose(1): "second"}
    async with (
        start_woz(aiohttp_server, arms_study(upstream, "balanced")) as woz,
        woz.openai(max_retries=0) as app,
    ):
        op = await woz.online_operator()
        for arm in sorted(order, key=lambda arm: order[arm]):  # in the draw's order
            who = {"X-Woz-Participant": order[arm]}
            async with app.realtime.connect(model="wizard", extra_headers=who) as conn:
                events = Events(conn)
                await events.until("session.created")
                if arm == "model-arm":
                    assert (await spoken_turn(conn, events))["status"] == "completed"
                    continue
                notice = await op.expect("voice_session")  # before anything was said
                async with listening(woz.url, notice["session_id"], woz.operator_token) as ws:
                    await stream(conn, silence(0.2) + tone(0.6))
                    states, heard = await hear_until(ws, "speech_started")
                    assert not op.held  # heard before the utterance is over
                    await stream(conn, silence(0.8))
                    more, rest = await hear_until(ws, "committed")
                assert states + more == ["speech_started", "speech_stopped", "committed"]
                assert rms(heard + rest) > 1000
                task = await op.next_task()
                ack = await op.reply(task["id"], "Yes?")
                await events.until("response.done")
        await no_voice_session(op)  # not the model arm's participant
        record = await woz.store.get_record(ack["record_id"])
        assert record is not None and record.arm == "human-arm"
        assert record.participant == notice["participant"]
        # Each participant was assigned once, at the next position.
        assert await woz.store.arm_counts(woz.study.id) == {"human-arm": 1, "model-arm": 1}


async def test_an_arm_the_app_names_is_assigned_when_the_session_opens(
    aiohttp_server: Callable[..., Awaitable[TestServer]], upstream: TestServer
) -> None:
    """`fixed` arms: the app's `X-Woz-Arm` on the session assigns it there, so only the
    human arm's participant is announced; without it nobody is, and the turn fails as
    a chat request would (`arm_required`)."""
    async with (
        start_woz(aiohttp_server, arms_study(upstream, "fixed")) as woz,
        woz.openai(max_retries=0) as app,
    ):
        op = await woz.online_operator()
        for who, arm in (("ana", "human-arm"), ("mo", "model-arm"), ("nell", None)):
            headers = {"X-Woz-Participant": who} | ({"X-Woz-Arm": arm} if arm else {})
            async with app.realtime.connect(model="wizard", extra_headers=headers) as conn:
                events = Events(conn)
                await events.until("session.created")
                if arm == "human-arm":
                    notice = await op.expect("voice_session")
                    assert notice["participant"] and notice["participant"] != who
                    continue
                response = await spoken_turn(conn, events)
                if arm is None:
                    assert response["status_details"]["error"]["code"] == "arm_required"
                else:
                    assert response["status"] == "completed"
        await no_voice_session(op)  # neither mo's nor nell's
        assert await woz.store.arm_counts(woz.study.id) == {"human-arm": 1, "model-arm": 1}
