"""The Realtime API through the official SDK's `client.realtime.connect()`, a wizard answering."""

from __future__ import annotations

import base64
import json
from typing import Any

import aiohttp
import openai
import pytest

from tests.conftest import STUDY_TOML, Woz
from tests.integration.realtime_client import (
    Events,
    audio_of,
    of_type,
    opened,
    silence,
    spoken,
    stream,
    tone,
)
from woz.api.realtime.audio import Decoder
from woz.media.speech.pcm import rms

pytestmark = pytest.mark.parametrize(
    "study_toml", [STUDY_TOML + '\n[voice]\nengine = "espeak"\n'], indirect=True
)
ANSWER = "Hello, I am here. The weather is sunny today."
TEXT_SESSION = {"type": "realtime", "output_modalities": ["text"]}


async def test_text_session(woz: Woz, openai_client: openai.AsyncOpenAI) -> None:
    """A typed turn gets the wizard's answer as text deltas and a usage."""
    op = await woz.online_operator()
    async with openai_client.realtime.connect(model="wizard") as conn:
        events = Events(conn)
        [created] = await events.until("session.created")
        assert created["session"]["model"] == "wizard"
        await conn.session.update(session=TEXT_SESSION | {"instructions": "Be brief."})
        [updated] = await events.until("session.updated")
        assert updated["session"]["output_modalities"] == ["text"]
        await conn.conversation.item.create(
            item={
                "type": "message",
                "role": "user",
                "content": [{"type": "input_text", "text": "Hi there?"}],
            }
        )
        await events.until("conversation.item.done")
        await conn.response.create()
        task = await op.next_task()
        assert task["api"] == "openai.realtime"
        assert [m["role"] for m in task["messages"]] == ["system", "user"]
        assert task["messages"][1]["content"][0]["text"] == "Hi there?"
        await op.reply(task["id"], ANSWER)
        got = await events.until("response.done")
    assert got[0]["type"] == "response.created"
    text = "".join(e["delta"] for e in of_type(got, "response.output_text.delta"))
    assert text == ANSWER
    assert of_type(got, "response.output_text.done")[0]["text"] == ANSWER
    done = got[-1]["response"]
    assert done["status"] == "completed"
    assert done["output"][0]["content"] == [{"type": "output_text", "text": ANSWER}]
    assert done["usage"]["output_tokens"] > 0
    assert not of_type(got, "response.output_audio.delta")


async def test_audio_session_with_server_vad(woz: Woz, openai_client: openai.AsyncOpenAI) -> None:
    """Speech streamed in is cut by the VAD, heard by the wizard, and answered in speech."""
    op = await woz.online_operator()
    speech = silence(0.5) + spoken("What is the weather like today?") + silence(1.0)
    async with opened(openai_client, "wizard") as (conn, events):
        await stream(conn, speech)
        heard = await events.until("conversation.item.done")
        kinds = [e["type"] for e in heard]
        assert kinds[:3] == [
            "input_audio_buffer.speech_started",
            "input_audio_buffer.speech_stopped",
            "input_audio_buffer.committed",
        ]
        started, stopped = heard[0], heard[1]
        assert 300 <= started["audio_start_ms"] <= 700
        assert stopped["audio_end_ms"] > started["audio_start_ms"] + 500
        task = await op.next_task()
        [part] = task["messages"][-1]["content"]
        assert part["type"] == "audio" and part["media_type"] == "audio/wav"
        headers = {"Authorization": f"Bearer {woz.operator_token}"}
        async with (
            aiohttp.ClientSession() as http,
            http.get(woz.url + part["url"], headers=headers) as wav,
        ):
            assert wav.status == 200
            body = await wav.read()
        assert body[:4] == b"RIFF" and len(body) > 24_000 * 2
        ack = await op.reply(task["id"], ANSWER, transcript="What is the weather like today?")
        got = await events.until("response.done")
    [said] = of_type(got, "conversation.item.input_audio_transcription.completed")
    assert said["transcript"] == "What is the weather like today?"
    pcm = audio_of(got)
    seconds = len(pcm) / 2 / 24_000
    assert 1.5 < seconds < 9.0, seconds
    assert rms(pcm) > 300
    transcript = "".join(e["delta"] for e in of_type(got, "response.output_audio_transcript.delta"))
    assert transcript == ANSWER
    [done] = of_type(got, "response.output_audio_transcript.done")
    assert done["transcript"] == ANSWER
    response = got[-1]["response"]
    assert response["status"] == "completed"
    assert response["usage"]["output_token_details"]["audio_tokens"] > 0
    record = await woz.store.get_record(ack["record_id"])
    assert record is not None and record.voice is not None
    assert record.voice.engine == "espeak" and record.voice.modality == "audio"
    assert record.voice.input_transcript == "What is the weather like today?"
    assert record.voice.first_audio_ms is not None and record.voice.first_audio_ms >= 0
    assert record.voice.audio_sent_ms > 1500
    # The study does not keep audio: the utterance is gone, and the record says so.
    assert not record.voice.audio_kept and record.voice.input_audio is None
    [audio_part] = [p for p in record.messages[-1].content if p.type == "audio"]
    assert audio_part.url is None
    async with (
        aiohttp.ClientSession() as http,
        http.get(woz.url + part["url"], headers=headers) as gone,
    ):
        assert gone.status == 404


async def test_barge_in_cancels_the_reply(woz: Woz, openai_client: openai.AsyncOpenAI) -> None:
    """Speaking again while the wizard is answering withdraws the task and cancels the reply."""
    op = await woz.online_operator()
    async with opened(openai_client, "wizard") as (conn, events):
        await stream(conn, tone(0.6) + silence(0.8))
        await events.until("response.created")
        first = await op.next_task()
        await stream(conn, tone(0.4))
        got = await events.until("response.done")
        assert got[-1]["response"]["status"] == "cancelled"
        assert got[-1]["response"]["status_details"]["reason"] == "turn_detected"
        assert of_type(got, "input_audio_buffer.speech_started")
        revoked = await op.expect("task.revoked", task_id=first["id"])
        assert revoked["reason"]
        # The second utterance ends and is answered, with both turns in its task.
        await stream(conn, silence(0.8))
        second = await op.next_task()
        assert [m["role"] for m in second["messages"]] == ["user", "user"]
        # The wizard's console is told why: the participant spoke over the last reply.
        assert second["voice"]["interrupted"]["while"] == "waiting"
        assert second["voice"]["utterance_ms"] > 300
        await op.reply(second["id"], "Yes?")
        done = await events.until("response.done")
        assert done[-1]["response"]["status"] == "completed"


async def test_client_cancel_and_truncate_are_recorded(
    woz: Woz, openai_client: openai.AsyncOpenAI
) -> None:
    """`response.cancel` stops a reply; `conversation.item.truncate` records what was played."""
    op = await woz.online_operator()
    async with opened(openai_client, "wizard") as (conn, events):
        await conn.session.update(
            session={"type": "realtime", "audio": {"input": {"turn_detection": None}}}
        )
        await events.until("session.updated")
        await stream(conn, tone(0.5))
        await conn.input_audio_buffer.commit()
        await events.until("conversation.item.done")
        await conn.response.create()
        task = await op.next_task()
        await conn.response.cancel()
        cancelled = await events.until("response.done")
        assert cancelled[-1]["response"]["status_details"]["reason"] == "client_cancelled"
        await op.expect("task.revoked", task_id=task["id"])
        await conn.response.create()
        task = await op.next_task()
        ack = await op.reply(task["id"], ANSWER)
        got = await events.until("response.done")
        [item] = got[-1]["response"]["output"]
        await conn.conversation.item.truncate(item_id=item["id"], content_index=0, audio_end_ms=700)
        truncated = await events.until("conversation.item.truncated")
        assert truncated[-1]["audio_end_ms"] == 700
    record = await woz.store.get_record(ack["record_id"])
    assert record is not None and record.voice is not None and record.voice.played_ms == 700


async def test_function_call(woz: Woz, openai_client: openai.AsyncOpenAI) -> None:
    """The wizard answers with a tool call; its output comes back as an item."""
    op = await woz.online_operator()
    tool = {
        "type": "function",
        "name": "get_weather",
        "description": "The weather in a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    }
    async with opened(openai_client, "wizard") as (conn, events):
        await conn.session.update(session=TEXT_SESSION | {"tools": [tool]})
        await events.until("session.updated")
        await conn.conversation.item.create(
            item={
                "type": "message",
                "role": "user",
                "content": [{"type": "input_text", "text": "Weather in Paris?"}],
            }
        )
        await conn.response.create()
        task = await op.next_task()
        assert task["tools"][0]["name"] == "get_weather"
        await op.reply(
            task["id"], tool_calls=[{"name": "get_weather", "arguments": {"city": "Paris"}}]
        )
        got = await events.until("response.done")
        [call] = of_type(got, "response.function_call_arguments.done")
        assert call["name"] == "get_weather" and json.loads(call["arguments"]) == {"city": "Paris"}
        deltas = "".join(e["delta"] for e in of_type(got, "response.function_call_arguments.delta"))
        assert deltas == call["arguments"]
        [item] = got[-1]["response"]["output"]
        assert item["type"] == "function_call" and item["call_id"] == call["call_id"]
        await conn.conversation.item.create(
            item={
                "type": "function_call_output",
                "call_id": call["call_id"],
                "output": '{"sky":"clear"}',
            }
        )
        await conn.response.create()
        task = await op.next_task()
        tool_turn = task["messages"][-1]
        assert tool_turn["role"] == "tool" and tool_turn["tool_call_id"] == call["call_id"]
        await op.reply(task["id"], "It is clear in Paris.")
        got = await events.until("response.done")
        assert got[-1]["response"]["status"] == "completed"


async def test_malformed_events_get_error_events(
    woz: Woz, openai_client: openai.AsyncOpenAI
) -> None:
    """Bad events get Realtime `error` events naming the problem; the session goes on."""
    async with opened(openai_client, "wizard") as (conn, events):
        await conn.send_raw("{not json")  # type: ignore[attr-defined]
        [error] = await events.until("error")
        assert error["error"]["code"] == "invalid_json"
        await conn.send({"type": "nonsense.event", "event_id": "evt_1"})  # type: ignore[typeddict-item]
        [error] = await events.until("error")
        assert error["error"]["param"] == "type" and error["error"]["event_id"] == "evt_1"
        await conn.input_audio_buffer.append(audio="%%% not base64")
        [error] = await events.until("error")
        assert (
            error["error"]["type"] == "invalid_request_error" and error["error"]["param"] == "audio"
        )
        await conn.send({"type": "conversation.item.create", "item": {"type": "message"}})  # type: ignore[typeddict-item]
        [error] = await events.until("error")
        assert error["error"]["code"] == "missing_required_parameter"
        await conn.input_audio_buffer.commit()
        [error] = await events.until("error")
        assert error["error"]["code"] == "input_audio_buffer_commit_empty"
        await conn.response.cancel()
        [error] = await events.until("error")
        assert error["error"]["code"] == "response_cancel_not_active"
        await conn.session.update(
            session={"type": "realtime", "audio": {"output": {"voice": "nobody"}}}
        )
        [error] = await events.until("error")
        assert error["error"]["param"] == "session.audio.output.voice"
        await conn.session.update(session=TEXT_SESSION)
        await events.until("session.updated")


async def test_browser_subprotocol_auth_and_refusals(woz: Woz) -> None:
    """Browsers authenticate with the key subprotocol; no key or no model is an HTTP error."""
    url = woz.base_url.replace("http://", "ws://") + "/realtime?model=wizard"
    async with aiohttp.ClientSession() as http:
        protocols = ("realtime", f"openai-insecure-api-key.{woz.app_key}")
        async with http.ws_connect(url, protocols=protocols) as ws:
            assert ws.protocol == "realtime"
            first = await ws.receive_json(timeout=10)
            assert first["type"] == "session.created"
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            async with http.ws_connect(url):
                pass
        assert refused.value.status == 401
        bad_model = url.replace("wizard", "nobody")
        headers = {"Authorization": f"Bearer {woz.app_key}"}
        with pytest.raises(aiohttp.WSServerHandshakeError) as missing:
            async with http.ws_connect(bad_model, headers=headers):
                pass
        assert missing.value.status == 404


async def test_g711_session(woz: Woz, openai_client: openai.AsyncOpenAI) -> None:
    """A telephony session speaks μ-law at 8 kHz both ways."""
    op = await woz.online_operator()
    pcmu = {"format": {"type": "audio/pcmu"}}
    async with opened(openai_client, "wizard") as (conn, events):
        await conn.session.update(
            session={"type": "realtime", "audio": {"input": pcmu, "output": pcmu}}
        )
        [updated] = await events.until("session.updated")
        assert updated["session"]["audio"]["output"]["format"] == {"type": "audio/pcmu"}
        # Half a second of loud μ-law (code 0x80 is the loudest positive sample), then silence.
        loud = bytes([0x80, 0x00]) * 2000
        quiet = bytes([0xFF]) * 8000
        for chunk in (loud, quiet):
            await conn.input_audio_buffer.append(audio=base64.b64encode(chunk).decode())
        await events.until("input_audio_buffer.committed")
        task = await op.next_task()
        await op.reply(task["id"], "Hello caller.")
        got = await events.until("response.done")
    wire = audio_of(got)
    pcm = Decoder("audio/pcmu").feed(wire)
    assert 0.4 < len(wire) / 8000 < 3.0 and rms(pcm) > 300


async def typed_turn(conn: Any, events: Events) -> None:
    await conn.conversation.item.create(
        item={"type": "message", "role": "user", "content": [{"type": "input_text", "text": "Hi"}]}
    )
    await conn.response.create()
    await events.until("response.created")


async def test_a_filler_is_spoken_before_the_answer_is_sent(
    woz: Woz, openai_client: openai.AsyncOpenAI
) -> None:
    """A filler that starts the wizard's draft is spoken at once; the answer follows it."""
    op = await woz.online_operator()
    async with opened(openai_client, "wizard") as (conn, events):
        await typed_turn(conn, events)
        task = await op.next_task()
        assert "Hmm, let me check." in task["voice"]["fillers"]
        await op.typing(task["id"], "Hmm, let me check. It is")
        early = await events.until("response.output_audio.delta")
        said = of_type(early, "response.output_audio_transcript.delta")
        assert [e["delta"] for e in said] == ["Hmm, let me check. "]
        # The wizard cannot take back what was said.
        refused = await op.reply(task["id"], "It is sunny.")
        assert refused["type"] == "reply.rejected"
        await op.reply(task["id"], "Hmm, let me check. It is sunny.")
        got = await events.until("response.done")
    [done] = of_type(got, "response.output_audio_transcript.done")
    assert done["transcript"] == "Hmm, let me check. It is sunny."


async def test_a_live_persona_speaks_finished_sentences_while_the_wizard_types(
    woz: Woz, openai_client: openai.AsyncOpenAI
) -> None:
    """Each finished sentence of a live persona's draft is spoken before the reply."""
    op = await woz.online_operator()
    async with opened(openai_client, "org/wizard-live") as (conn, events):
        await typed_turn(conn, events)
        task = await op.next_task()
        await op.typing(task["id"], "The first sentence is ready. The second is")
        early = await events.until("response.output_audio.delta")
        said = "".join(e["delta"] for e in of_type(early, "response.output_audio_transcript.delta"))
        assert said.strip() == "The first sentence is ready."
        await op.reply(task["id"], "The first sentence is ready. The second is too.")
        got = await events.until("response.done")
    transcript = said + "".join(
        e["delta"] for e in of_type(got, "response.output_audio_transcript.delta")
    )
    assert transcript == "The first sentence is ready. The second is too."
    assert got[-1]["response"]["status"] == "completed"


async def test_the_wizard_hears_the_next_utterance_live(
    woz: Woz, openai_client: openai.AsyncOpenAI
) -> None:
    """Once a task names its session, the wizard's console can hear the participant while
    they speak: the state as text frames, the audio as PCM16 frames."""
    op = await woz.online_operator()
    headers = {"Authorization": f"Bearer {woz.operator_token}"}
    async with opened(openai_client, "wizard") as (conn, events):
        await stream(conn, tone(0.5) + silence(0.8))
        first = await op.next_task()
        session_id = first["voice"]["session_id"]
        await op.reply(first["id"], "Yes?")
        await events.until("response.done")
        url = woz.url.replace("http", "ws") + f"/operator/voice/{session_id}"
        async with aiohttp.ClientSession() as http, http.ws_connect(url, headers=headers) as ws:
            await stream(conn, silence(0.2) + tone(0.6) + silence(0.8))
            heard = b""
            states = []
            while "committed" not in states:
                message = await ws.receive(timeout=10)
                if message.type == aiohttp.WSMsgType.BINARY:
                    heard += message.data
                else:
                    states.append(json.loads(message.data)["type"])
            second = await op.next_task()
            assert states == ["speech_started", "speech_stopped", "committed"]
            assert second["voice"]["item_id"] and 0.6 < len(heard) / 48_000 < 2.0
            assert rms(heard) > 1000
            await op.reply(second["id"], "Go on.")
            speaking = json.loads((await ws.receive(timeout=10)).data)
            assert (speaking["type"], speaking["state"]) == ("reply", "speaking")
        await events.until("response.done")
    async with aiohttp.ClientSession() as http:
        with pytest.raises(aiohttp.WSServerHandshakeError) as ended:
            async with http.ws_connect(url, headers=headers):
                pass
        assert ended.value.status == 404


async def test_no_wizard_online_fails_the_response_not_the_session(
    woz: Woz, openai_client: openai.AsyncOpenAI
) -> None:
    """With nobody to answer, the response fails with the API's error and the session lives."""
    async with opened(openai_client, "wizard") as (conn, events):
        await typed_turn(conn, events)
        got = await events.until("response.done")
        [error] = of_type(got, "error")
        assert error["error"]["code"] == "no_operator_online"
        assert got[-1]["response"]["status"] == "failed"
        await conn.session.update(session=TEXT_SESSION)
        await events.until("session.updated")


async def test_the_audio_clock_keeps_time_over_odd_sized_appends(
    woz: Woz, openai_client: openai.AsyncOpenAI
) -> None:
    """After half a minute of silence in appends of odd sizes, speech is found where it
    is, and the utterance holds the speech and its padding, no more."""
    op = await woz.online_operator()
    quiet = silence(30.0)
    async with openai_client.realtime.connect(model="wizard") as conn:
        events = Events(conn, timeout=30)
        await events.until("session.created")
        for start in range(0, len(quiet), 1001):
            chunk = quiet[start : start + 1001]
            await conn.input_audio_buffer.append(audio=base64.b64encode(chunk).decode())
        await stream(conn, tone(0.5) + silence(0.7))
        [started] = of_type(
            await events.until("input_audio_buffer.speech_started"),
            "input_audio_buffer.speech_started",
        )
        assert abs(started["audio_start_ms"] - 30_000) <= 20
        task = await op.next_task()
        assert 500 + 300 <= task["voice"]["utterance_ms"] <= 500 + 300 + 500 + 60


async def test_a_live_persona_shows_finished_words_in_a_text_session(
    woz: Woz, openai_client: openai.AsyncOpenAI
) -> None:
    """In a text session, a live persona's words are sent as the wizard types them."""
    op = await woz.online_operator()
    async with opened(openai_client, "org/wizard-live") as (conn, events):
        await conn.session.update(session=TEXT_SESSION)
        await events.until("session.updated")
        await typed_turn(conn, events)
        task = await op.next_task()
        await op.typing(task["id"], "Hello there fr")
        [early] = of_type(
            await events.until("response.output_text.delta"), "response.output_text.delta"
        )
        assert early["delta"] == "Hello there "
        await op.reply(task["id"], "Hello there friend.")
        got = await events.until("response.done")
    [done] = of_type(got, "response.output_text.done")
    assert done["text"] == "Hello there friend."


async def test_an_audio_item_created_by_the_client_reaches_the_wizard(
    woz: Woz, openai_client: openai.AsyncOpenAI
) -> None:
    """A user message with base64 audio (no VAD involved) is an utterance like any other."""
    op = await woz.online_operator()
    clip = base64.b64encode(tone(0.4)).decode()
    async with opened(openai_client, "wizard") as (conn, events):
        await conn.conversation.item.create(
            item={
                "type": "message",
                "role": "user",
                "content": [{"type": "input_audio", "audio": clip, "transcript": "beep"}],
            }
        )
        [added] = of_type(await events.until("conversation.item.done"), "conversation.item.added")
        assert added["item"]["content"] == [{"type": "input_audio", "transcript": "beep"}]
        await conn.response.create()
        task = await op.next_task()
        parts = task["messages"][-1]["content"]
        assert [p["type"] for p in parts] == ["audio", "text"] and parts[1]["text"] == "beep"
        await op.reply(task["id"], "Beep to you too.")
        await events.until("response.done")


async def test_speaking_over_the_answer_cuts_it_and_the_record_says_so(
    woz: Woz, openai_client: openai.AsyncOpenAI
) -> None:
    """Speech while the answer is being spoken stops it; the record keeps the interruption
    and what was sent, and the wizard's next task shows what had been said."""
    op = await woz.online_operator()
    long_answer = " ".join(f"This is sentence number {n} of a long answer." for n in range(40))
    async with opened(openai_client, "wizard") as (conn, events):
        await typed_turn(conn, events)
        task = await op.next_task()
        ack = await op.reply(task["id"], long_answer)
        await events.until("response.output_audio.delta")
        await stream(conn, tone(0.3))
        got = await events.until("response.done")
        response = got[-1]["response"]
        assert response["status"] == "cancelled"
        assert response["status_details"]["reason"] == "turn_detected"
        [message] = response["output"]
        assert message["status"] == "incomplete"
        said = message["content"][0]["transcript"]
        assert said and long_answer.startswith(said) and said != long_answer
        await stream(conn, silence(0.8))
        after = await op.next_task()
        assert after["voice"]["interrupted"]["while"] == "speaking"
        assert after["voice"]["interrupted"]["said"] == said
        assert [m["role"] for m in after["messages"]][-2:] == ["assistant", "user"]
        assert after["messages"][-2]["content"][0]["text"] == said
    record = await woz.store.get_record(ack["record_id"])
    assert record is not None and record.voice is not None
    assert record.voice.interrupted_by == "turn_detected" and record.voice.audio_sent_ms > 0
    assert record.answer is not None and record.answer.content == long_answer


async def test_items_can_be_retrieved_and_deleted(
    woz: Woz, openai_client: openai.AsyncOpenAI
) -> None:
    """A deleted item is no longer shown to the wizard; an unknown one is an error."""
    op = await woz.online_operator()
    async with opened(openai_client) as (conn, events):
        for text in ("Forget this.", "Keep this."):
            await conn.conversation.item.create(
                item={
                    "type": "message",
                    "role": "user",
                    "content": [{"type": "input_text", "text": text}],
                }
            )
        got = await events.until("conversation.item.done")
        got += await events.until("conversation.item.done")
        added = of_type(got, "conversation.item.added")
        first, second = (event["item"]["id"] for event in added)
        await conn.conversation.item.delete(item_id=first)
        await events.until("conversation.item.deleted", item_id=first)
        await conn.conversation.item.retrieve(item_id=second)
        [retrieved] = await events.until("conversation.item.retrieved")
        assert retrieved["item"]["content"] == [{"type": "input_text", "text": "Keep this."}]
        await conn.conversation.item.retrieve(item_id=first)
        [error] = await events.until("error")
        assert error["error"]["code"] == "item_not_found"
        await conn.response.create()
        task = await op.next_task()
        assert [m["content"][0]["text"] for m in task["messages"]] == ["Keep this."]
        await op.reply(task["id"], "Kept.")
        await events.until("response.done")
