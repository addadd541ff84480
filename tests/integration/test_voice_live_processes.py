"""Two `woz serve` processes on PostgreSQL and Redis: a Realtime session held by one is
heard live through the other, where the operator's console is connected."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass

import aiohttp
import openai
import psycopg
import pytest

from tests.integration.realtime_client import Events, silence, stream, tone
from tests.integration.test_voice_live import hear_until, listening, refused
from tests.integration.woz_processes import STUDY, Deployment, Server, deployment
from woz.media.speech.pcm import rms
from woz.operators.client import OperatorClient

pytestmark = pytest.mark.timeout(180)
VOICE_STUDY = STUDY + '\n[voice]\nengine = "espeak"\n'


@dataclass
class TwoProcesses:
    """A voice study served by processes `a` and `b`, with the operator `op` ready on `a`."""

    woz: Deployment
    a: Server
    b: Server
    app: str  # an app key
    token: str  # op's operator token
    op: OperatorClient

    def client(self, server: Server) -> openai.AsyncOpenAI:
        return openai.AsyncOpenAI(base_url=server.base_url, api_key=self.app, max_retries=0)


@contextlib.asynccontextmanager
async def two_processes(study: str = VOICE_STUDY) -> AsyncIterator[TwoProcesses]:
    async with deployment() as woz:
        woz.study_file.write_text(study)
        app, token = await woz.key("app"), await woz.key("operator", "Olive")
        a, b = await woz.start(), await woz.start()
        async with OperatorClient(a.url, token) as op:
            await op.ready()
            await op.expect("queue", operators_online=1)
            yield TwoProcesses(woz, a, b, app, token, op)


async def test_a_session_on_one_process_is_heard_on_the_other() -> None:
    """Session on B, operator and listener on A: the announcement, the first utterance's
    audio and states, then its task; the session's end closes the listener."""
    async with two_processes() as woz:
        a, token, op = woz.a, woz.token, woz.op
        async with woz.client(woz.b) as client:
            async with client.realtime.connect(model="wizard") as conn:
                events = Events(conn)
                await events.until("session.created")
                notice = await op.expect("voice_session")
                session_id = notice["session_id"]
                async with listening(a.url, session_id, token) as ws:
                    await stream(conn, silence(0.2) + tone(0.6))
                    states, heard = await hear_until(ws, "speech_started")
                    assert not op.held  # heard before the utterance is over
                    await stream(conn, silence(0.8))
                    more, rest = await hear_until(ws, "committed")
                    heard += rest
                    assert states + more == ["speech_started", "speech_stopped", "committed"]
                    assert 0.6 < len(heard) / 48_000 < 2.0 and rms(heard) > 1000
                    task = await op.next_task()
                    assert task["voice"]["session_id"] == session_id
                    await op.reply(task["id"], "Yes?")
                    await events.until("response.done")
                    # The session ends on B: the listener on A is told, and its socket closes.
                    await conn.close()
                    async with asyncio.timeout(10):
                        while (await ws.receive()).type != aiohttp.WSMsgType.CLOSE:
                            pass
            assert await refused(a.url, session_id, token) == 404


async def test_a_listener_is_let_go_when_the_sessions_process_dies() -> None:
    """B killed with its session open: the listener on A ends once B's heartbeat for the
    session runs out, and the session is gone."""
    async with two_processes() as woz:
        a, b, token, op = woz.a, woz.b, woz.token, woz.op
        client = woz.client(b)
        await client.realtime.connect(model="wizard").enter()  # left open: B dies
        try:
            notice = await op.expect("voice_session")
            async with listening(a.url, notice["session_id"], token) as ws:
                b.process.send_signal(signal.SIGKILL)
                message = await ws.receive(timeout=60)
                assert message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
            assert await refused(a.url, notice["session_id"], token) == 404
        finally:
            await b.process.wait()
            await client.close()


ARMS_STUDY = (
    VOICE_STUDY
    + """
[[arms]]
id = "calm"

[[arms]]
id = "brisk"
live = true

[conditions]
assignment = "balanced"
seed = 3
"""
)


async def test_sessions_opened_on_both_processes_take_one_arm_position_each() -> None:
    """Six participants open their first sessions at once, three on each process: each is
    assigned an arm as the session opens (both arms human, so each is announced before
    anything is said), at its own position of the allocation sequence, three per arm."""
    async with two_processes(ARMS_STUDY) as woz:
        async with (
            woz.client(woz.a) as on_a,
            woz.client(woz.b) as on_b,
            contextlib.AsyncExitStack() as sessions,
        ):

            async def open_session(client: openai.AsyncOpenAI, who: str) -> None:
                headers = {"X-Woz-Participant": who}
                connection = client.realtime.connect(model="wizard", extra_headers=headers)
                await Events(await sessions.enter_async_context(connection)).until(
                    "session.created"
                )

            await asyncio.gather(
                *(open_session(on_a if i % 2 else on_b, f"participant-{i}") for i in range(6))
            )
            notices = [await woz.op.expect("voice_session") for _ in range(6)]
            assert len({n["participant"] for n in notices}) == 6
        with psycopg.connect(woz.woz.database_url) as db:
            rows = db.execute("SELECT participant, arm, position FROM arm_assignments").fetchall()
    assert sorted(position for _, _, position in rows) == list(range(6))
    assert {participant for participant, _, _ in rows} == {n["participant"] for n in notices}
    assert Counter(arm for _, arm, _ in rows) == {"calm": 3, "brisk": 3}
