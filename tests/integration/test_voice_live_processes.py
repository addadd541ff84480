"""Two `woz serve` processes on PostgreSQL and Redis: a Realtime session held by one is
heard live through the other, where the operator's console is connected."""

from __future__ import annotations

import asyncio
import signal

import aiohttp
import openai
import pytest

from tests.integration.realtime_client import Events, silence, stream, tone
from tests.integration.test_voice_live import hear_until, listening, refused
from tests.integration.woz_processes import STUDY, deployment
from woz.media.speech.pcm import rms
from woz.operators.client import OperatorClient

pytestmark = pytest.mark.timeout(180)
VOICE_STUDY = STUDY + '\n[voice]\nengine = "espeak"\n'


async def test_a_session_on_one_process_is_heard_on_the_other() -> None:
    """Session on B, operator and listener on A: the announcement, the first utterance's
    audio and states, then its task; the session's end closes the listener."""
    async with deployment() as woz:
        woz.study_file.write_text(VOICE_STUDY)
        app, token = await woz.key("app"), await woz.key("operator", "Olive")
        a, b = await woz.start(), await woz.start()
        async with (
            OperatorClient(a.url, token) as op,
            openai.AsyncOpenAI(base_url=b.base_url, api_key=app, max_retries=0) as client,
        ):
            await op.ready()
            await op.expect("queue", operators_online=1)
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
    async with deployment() as woz:
        woz.study_file.write_text(VOICE_STUDY)
        app, token = await woz.key("app"), await woz.key("operator", "Olive")
        a, b = await woz.start(), await woz.start()
        async with OperatorClient(a.url, token) as op:
            await op.ready()
            await op.expect("queue", operators_online=1)
            client = openai.AsyncOpenAI(base_url=b.base_url, api_key=app, max_retries=0)
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
