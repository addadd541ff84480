"""The shipped examples, run as a user runs them: study files served by a live woz, the
example apps as their own processes, the operator on the real websocket."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import wave
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from tests.conftest import Woz, start_woz
from woz.study import parse_study
from woz.study.summary import warnings

EXAMPLES = Path(__file__).parents[2] / "examples"
WAIT_S = 30.0

Server = Callable[..., Awaitable[TestServer]]


@asynccontextmanager
async def example_woz(aiohttp_server: Server, name: str) -> AsyncIterator[Woz]:
    async with start_woz(aiohttp_server, (EXAMPLES / name / "study.toml").read_text()) as woz:
        yield woz


async def run_app(
    woz: Woz, script: str, *args: str, stdin: str = ""
) -> tuple[asyncio.subprocess.Process, asyncio.Task[tuple[bytes, bytes]]]:
    """Start an example app against `woz`; its output arrives when it exits."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(EXAMPLES / script),
        *args,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "WOZ_URL": woz.url, "WOZ_APP_KEY": woz.app_key},
    )
    return process, asyncio.create_task(process.communicate(stdin.encode()))


async def finished(
    process: asyncio.subprocess.Process, output: asyncio.Task[tuple[bytes, bytes]]
) -> str:
    out, err = await asyncio.wait_for(output, WAIT_S)
    assert process.returncode == 0, err.decode()
    return out.decode()


@pytest.mark.parametrize("study", sorted(p.parent.name for p in EXAMPLES.glob("*/study.toml")))
def test_every_example_study_is_valid(study: str) -> None:
    parsed = parse_study((EXAMPLES / study / "study.toml").read_text())
    assert parsed.personas and warnings(parsed) == []  # examples set what a study should


async def test_the_suggest_app_gets_a_structured_recommendation(aiohttp_server: Server) -> None:
    async with example_woz(aiohttp_server, "suggest_concierge") as woz:
        operator = await woz.online_operator()
        app = await run_app(woz, "suggest_concierge/app.py", "A gift for a hiker")
        task = await operator.next_task()
        assert task["messages"][-1]["content"][0]["text"] == "A gift for a hiker"
        schema = task["response_format"]["json_schema"]
        assert set(schema["properties"]) == {"product", "brand", "reason"}
        answer = {"product": "Trail daypack", "brand": "Osprey", "reason": "Light and tough."}
        ack = await operator.reply(task["id"], json.dumps(answer))
        assert ack["type"] == "reply.ack"
        printed = await finished(*app)
    assert printed.splitlines() == ["Trail daypack by Osprey", "Why: Light and tough."]


async def test_the_tool_agent_runs_the_calls_a_person_chose(aiohttp_server: Server) -> None:
    async with example_woz(aiohttp_server, "tool_agent") as woz:
        operator = await woz.online_operator()
        app = await run_app(woz, "tool_agent/agent.py", "My order A-1002 arrived broken")
        first = await operator.next_task()
        assert [tool["name"] for tool in first["tools"]] == ["lookup_order", "issue_refund"]
        lookup = {"name": "lookup_order", "arguments": '{"order_id": "A-1002"}'}
        await operator.reply(first["id"], tool_calls=[lookup])

        second = await operator.next_task()
        looked_up = second["messages"][-1]
        assert looked_up["role"] == "tool"
        assert json.loads(looked_up["content"][0]["text"])["status"] == "delivered damaged"
        arguments = '{"order_id": "A-1002", "reason": "damaged"}'
        refund = {"name": "issue_refund", "arguments": arguments}
        await operator.reply(second["id"], tool_calls=[refund])

        third = await operator.next_task()
        assert json.loads(third["messages"][-1]["content"][0]["text"])["refunded"] == 45.0
        await operator.reply(third["id"], "Sorry about the teapot: I refunded the $45.")
        printed = await finished(*app)
        records = await woz.store.list_records(woz.study.id)
    assert printed.splitlines()[-1] == "Sorry about the teapot: I refunded the $45."
    assert "[issue_refund(" in printed
    chosen = [[call.name for call in r.answer.tool_calls] for r in records if r.answer]
    assert chosen == [["lookup_order"], ["issue_refund"], []]
    assert {r.produced_by for r in records} == {"human"}


async def test_the_support_study_runs_from_its_chat_page(aiohttp_server: Server) -> None:
    async with example_woz(aiohttp_server, "support_chat") as woz:
        page = f"{woz.url}/p/support-desk"
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as browser:
            async with browser.get(page) as response:  # a first visit makes a participant
                assert response.status == 200
            async with browser.get(page + "/state") as response:
                state = await response.json()
        assert state["persona"]["id"] == "sam"
        assert "Northwind" not in json.dumps(state)  # the operator's guide stays with operators
        assert state["consent"]["text"].startswith("You are about to chat with Sam")


async def test_the_consent_chat_app_consents_chats_and_debriefs(aiohttp_server: Server) -> None:
    async with example_woz(aiohttp_server, "support_chat") as woz:
        operator = await woz.online_operator()
        # model, participant code, taking part, no excerpts, one message, end of chat, keep it
        typed = "sam\nparticipant-77\ny\nn\nMy internet is down\n\nn\n"
        app = await run_app(woz, "consent_chat/app.py", stdin=typed)
        task = await operator.next_task()
        assert task["messages"][-1]["content"][0]["text"] == "My internet is down"
        await operator.reply(task["id"], "Let's restart the router.")
        printed = await finished(*app)
        [record] = await woz.store.list_records(woz.study.id)
        bearer = {"Authorization": f"Bearer {woz.app_key}"}
        url = f"{woz.url}/woz/participants/participant-77"
        async with aiohttp.ClientSession(headers=bearer) as client, client.get(url) as response:
            status = await response.json()
    assert "ai> Let's restart the router." in printed
    assert "Sam is not a program" in printed  # the debrief was shown
    assert "Help desk" in printed and woz.study.title not in printed  # not the research question
    assert status["consent"]["scopes"] == ["in_study_analysis"]  # the uses agreed to, no more
    assert record.consent_id is not None and record.participant == status["participant"]
    assert status["consent_current"] and status["debriefed"] and not status["withdrawn"]


async def test_the_voice_assistant_hears_a_question_and_speaks_the_answer(
    aiohttp_server: Server, tmp_path: Path
) -> None:
    question, answer = tmp_path / "question.wav", tmp_path / "answer.wav"
    speak = await asyncio.create_subprocess_exec(
        "espeak-ng", "-w", str(question), "How long do I boil an egg?"
    )
    assert await speak.wait() == 0
    async with example_woz(aiohttp_server, "voice_assistant") as woz:
        operator = await woz.online_operator()
        app = await run_app(woz, "voice_assistant/app.py", str(question), str(answer))
        task = await operator.next_task()
        assert (
            task["api"] == "openai.realtime"
            and task["messages"][-1]["content"][0]["type"] == "audio"
        )
        await operator.reply(
            task["id"], "Seven minutes for a soft yolk.", transcript="How long do I boil an egg?"
        )
        printed = await finished(*app)
    assert "you> How long do I boil an egg?" in printed
    assert "assistant> Seven minutes for a soft yolk." in printed
    with wave.open(str(answer), "rb") as spoken:
        assert spoken.getframerate() == 24_000 and spoken.getnframes() > 24_000
