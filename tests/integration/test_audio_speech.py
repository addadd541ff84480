"""`POST /v1/audio/speech` through the official SDK: the study's voice speaks, no operator.

The local engines (piper with its bundled voice, Debian's espeak-ng) really speak;
the upstream engine talks to a small OpenAI-compatible server inside the test
that answers a tone as long as the text, a 500 for the text "fail", and drops the
connection after a first chunk for "cut".
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
import math
import struct
import wave
from collections.abc import Awaitable, Callable

import aiohttp
import mutagen.mp3
import openai
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from tests.conftest import STUDY_TOML, Woz
from woz.media.speech.pcm import rms

TEXT = "Hello there. The cashmere scarf is a timeless gift for your sister."
WORDS = len(TEXT.split())
SEEN = web.AppKey("seen", list[dict[str, object]])
# For the text "slow": the fake upstream waits for RELEASE after its first chunk, then
# writes on; it sets CUT when its connection is cut.
RELEASE = web.AppKey("release", asyncio.Event)
CUT = web.AppKey("cut", asyncio.Event)


def study_with_voice(table: str) -> str:
    return STUDY_TOML + "\n[voice]\n" + table


def wav_pcm(body: bytes) -> tuple[tuple[int, int, int], bytes]:
    """The WAV's channels, sample width and rate, and all its samples (its header states
    no length: it streamed)."""
    with wave.open(io.BytesIO(body), "rb") as audio:
        shape = (audio.getnchannels(), audio.getsampwidth(), audio.getframerate())
        return shape, audio.readframes(1 << 30)


def assert_spoken(pcm: bytes, rate: int, words: int) -> None:
    """Audible PCM16 about as long as `words` words take to say."""
    seconds = len(pcm) / 2 / rate
    assert 0.15 * words < seconds < 1.0 * words, seconds
    assert rms(pcm) > 300


async def speech_records(woz: Woz) -> list[object]:
    return [r for r in await woz.store.list_records(woz.study.id) if r.api == "openai.audio_speech"]


@pytest.mark.parametrize(
    ("study_toml", "model"),
    [
        (study_with_voice('engine = "espeak"\n'), "espeak:en-us"),
        (study_with_voice('engine = "piper"\n'), "piper:en_US-joe-medium"),
    ],
    indirect=["study_toml"],
)
async def test_the_sdk_gets_a_spoken_wav_and_a_model_record(
    woz: Woz, openai_client: openai.AsyncOpenAI, model: str
) -> None:
    """A WAV of the text in the study's voice comes back, recorded as model-produced audio."""
    response = await openai_client.audio.speech.create(
        model="tts-1", voice="alloy", input=TEXT, response_format="wav"
    )
    shape, pcm = wav_pcm(response.content)
    assert shape == (1, 2, 24000)
    assert_spoken(pcm, 24000, WORDS)
    [record] = await speech_records(woz)
    assert record.status == "delivered" and record.produced_by == "model"
    assert record.operator is None and record.synthetic is True and record.model == model
    assert record.persona == "tts-1" and record.mode == "model"
    assert [m.text() for m in record.messages] == [TEXT]
    summary = json.loads(record.answer.content)["audio"]
    assert summary["voice"] == model.split(":")[1] and summary["response_format"] == "wav"
    assert summary["duration_s"] == pytest.approx(len(pcm) / 48000, abs=0.01)


@pytest.mark.parametrize("study_toml", [study_with_voice('engine = "espeak"\n')], indirect=True)
async def test_streamed_pcm_and_the_default_mp3(
    woz: Woz, openai_client: openai.AsyncOpenAI
) -> None:
    """`with_streaming_response` reads raw 24 kHz PCM as it comes; without a format, an MP3."""
    async with openai_client.audio.speech.with_streaming_response.create(
        model="wizard", voice="nova", input=TEXT, response_format="pcm", speed=1.5
    ) as response:
        assert response.headers["content-type"] == "audio/pcm"
        pcm = b"".join([chunk async for chunk in response.iter_bytes()])
    assert_spoken(pcm, 24000, WORDS)
    mp3 = await openai_client.audio.speech.create(model="wizard", voice="nova", input=TEXT)
    info = mutagen.mp3.MP3(io.BytesIO(mp3.content)).info
    assert info.sample_rate == 24000 and 0.15 * WORDS < info.length < WORDS
    records = await speech_records(woz)
    assert {r.persona for r in records} == {"wizard"}
    faster = next(r for r in records if r.request.get("response_format") == "pcm")
    assert json.loads(faster.answer.content)["audio"]["speed"] == 1.5


@pytest.mark.parametrize("study_toml", [study_with_voice('engine = "espeak"\n')], indirect=True)
async def test_sse_sends_audio_deltas_then_done(
    woz: Woz, openai_client: openai.AsyncOpenAI
) -> None:
    """`stream_format: "sse"` gives speech.audio.delta events whose audio is the file, then done."""
    async with openai_client.audio.speech.with_streaming_response.create(
        model="tts-1", voice="alloy", input=TEXT, response_format="wav", stream_format="sse"
    ) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        lines = [line async for line in response.iter_lines()]
    events = [json.loads(line[len("data: ") :]) for line in lines if line.startswith("data: ")]
    deltas, done = events[:-1], events[-1]
    assert {event["type"] for event in deltas} == {"speech.audio.delta"} and len(deltas) > 1
    assert done["type"] == "speech.audio.done" and done["usage"]["input_tokens"] > 0
    _, pcm = wav_pcm(b"".join(base64.b64decode(event["audio"]) for event in deltas))
    assert_spoken(pcm, 24000, WORDS)


@pytest.mark.parametrize("study_toml", [study_with_voice('engine = "espeak"\n')], indirect=True)
@pytest.mark.parametrize(
    ("fields", "param", "status"),
    [
        ({"input": "  "}, "input", 400),
        ({"input": "word " * 1000}, "input", 400),
        ({"voice": "klingon"}, "voice", 400),
        ({"voice": {"id": "voice_1234"}}, "voice", 400),
        ({"response_format": "opus"}, "response_format", 400),
        ({"response_format": "ogg"}, "response_format", 400),
        ({"speed": 5}, "speed", 400),
        ({"model": "gpt-4o"}, "model", 404),
    ],
)
async def test_bad_requests_get_openai_errors_naming_the_field(
    woz: Woz, openai_client: openai.AsyncOpenAI, fields: dict[str, object], param: str, status: int
) -> None:
    """Empty or too long text, an unknown voice, model or format: an OpenAI error on that field."""
    request: dict[str, object] = {"model": "tts-1", "voice": "alloy", "input": "Hi."} | fields
    with pytest.raises(openai.APIStatusError) as caught:
        await openai_client.audio.speech.create(**request)  # type: ignore[arg-type]
    assert caught.value.status_code == status
    error = caught.value.body
    assert isinstance(error, dict) and error["param"] == param
    assert error["type"] == "invalid_request_error" and error["message"]
    assert await speech_records(woz) == []


async def test_an_unsupported_format_says_what_is_spoken(
    woz: Woz, openai_client: openai.AsyncOpenAI
) -> None:
    """A refused `response_format` lists the formats woz does speak."""
    with pytest.raises(openai.BadRequestError) as caught:
        await openai_client.audio.speech.create(
            model="tts-1", voice="alloy", input="Hi.", response_format="flac"
        )
    assert caught.value.message.endswith("woz speaks mp3, wav, pcm.")


# -- the upstream engine ------------------------------------------------------------


async def fake_speech(request: web.Request) -> web.StreamResponse:
    """OpenAI's `pcm`: a 440 Hz tone, a third of a second per word, sent in pieces."""
    body = await request.json()
    request.app[SEEN].append(body)
    if body["input"] == "fail":
        return web.json_response({"error": {"message": "boom"}}, status=500)
    if body["input"] == "slow":
        return await slow_speech(request)
    if body["input"] == "cut":  # a first chunk, then the connection drops
        response = web.StreamResponse(headers={"Content-Type": "audio/pcm"})
        await response.prepare(request)
        await response.write(b"\x10\x00" * 4800)
        assert request.transport is not None
        request.transport.close()
        return response
    frames = int(24000 * 0.33 * len(body["input"].split()))
    tone = b"".join(
        struct.pack("<h", int(8000 * math.sin(2 * math.pi * 440 * n / 24000)))
        for n in range(frames)
    )
    response = web.StreamResponse(headers={"Content-Type": "audio/pcm"})
    await response.prepare(request)
    for start in range(0, len(tone), 4801):  # odd sizes: samples split across chunks
        await response.write(tone[start : start + 4801])
    await response.write_eof()
    return response


async def slow_speech(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse(headers={"Content-Type": "audio/pcm"})
    await response.prepare(request)
    await response.write(b"\x10\x00" * 4800)
    try:
        await request.app[RELEASE].wait()
        for _ in range(500):  # bounded: 5 s at most
            await response.write(b"\x10\x00" * 4800)
            await asyncio.sleep(0.01)
    except (ConnectionResetError, asyncio.CancelledError):  # cancelled: the server noticed
        request.app[CUT].set()
        raise
    return response


@pytest.fixture
async def speech_upstream(aiohttp_server: Callable[..., Awaitable[TestServer]]) -> TestServer:
    app = web.Application()
    app[SEEN] = []
    app[RELEASE] = asyncio.Event()
    app[CUT] = asyncio.Event()
    app.router.add_post("/v1/audio/speech", fake_speech)
    return await aiohttp_server(app)


@pytest.fixture
def study_toml(speech_upstream: TestServer, request: pytest.FixtureRequest) -> str:
    """The test study speaking through the fake upstream, unless a test names its own."""
    param = getattr(request, "param", None)
    if param is not None:
        return str(param)
    return (
        STUDY_TOML
        + f"""
[[upstreams]]
id = "fake"
base_url = "{speech_upstream.make_url("/v1")}"
model = "fake-tts"
timeout_s = 5

[voice]
engine = "upstream"
upstream = "fake"
name = "coral"
speed = 1.25
"""
    )


async def test_the_upstream_engine_relays_pcm_from_a_real_model(
    woz: Woz, openai_client: openai.AsyncOpenAI, speech_upstream: TestServer
) -> None:
    """The upstream is asked for pcm in the study's voice; its audio comes back as a WAV."""
    response = await openai_client.audio.speech.create(
        model="gpt-4o-mini-tts",
        voice="alloy",
        input=TEXT,
        response_format="wav",
        instructions="Speak warmly.",
    )
    _, pcm = wav_pcm(response.content)
    assert len(pcm) == 2 * int(24000 * 0.33 * WORDS)
    assert rms(pcm) == pytest.approx(8000 / math.sqrt(2), rel=0.01)
    [sent] = speech_upstream.app[SEEN]
    assert sent["model"] == "fake-tts" and sent["voice"] == "coral"
    assert sent["response_format"] == "pcm" and sent["speed"] == 1.25
    assert sent["instructions"] == "Speak warmly."
    [record] = await speech_records(woz)
    assert record.model == "fake:fake-tts" and record.produced_by == "model"
    assert [m.role for m in record.messages] == ["system", "user"]


async def test_a_failing_upstream_is_a_502_and_a_failed_record(
    woz: Woz, openai_client: openai.AsyncOpenAI
) -> None:
    """An upstream error before any audio: a 502 in OpenAI's shape; the record says failed."""
    with pytest.raises(openai.InternalServerError) as caught:
        await openai_client.audio.speech.create(model="tts-1", voice="alloy", input="fail")
    assert caught.value.status_code == 502 and caught.value.code == "speech_failed"
    [record] = await speech_records(woz)
    assert record.status == "failed" and "http_500" in (record.failure or "")


async def test_a_client_that_leaves_stops_the_synthesis(
    woz: Woz, speech_upstream: TestServer
) -> None:
    """An app that hangs up mid-audio: the upstream's stream is cut and the record says so."""
    request = {"model": "tts-1", "voice": "alloy", "input": "slow", "response_format": "pcm"}
    headers = {"Authorization": f"Bearer {woz.app_key}"}
    async with aiohttp.ClientSession() as session:
        response = await session.post(f"{woz.base_url}/audio/speech", json=request, headers=headers)
        assert response.status == 200 and await response.content.readexactly(9600)
        response.close()
    speech_upstream.app[RELEASE].set()
    await asyncio.wait_for(speech_upstream.app[CUT].wait(), timeout=10)
    [record] = await speech_records(woz)
    assert record.status == "client_gone" and record.produced_by == "model"


async def test_a_failure_after_the_audio_began_cuts_the_response(woz: Woz) -> None:
    """Audio that breaks off is never passed off as complete: the body is cut, the record failed."""
    request = {"model": "tts-1", "voice": "alloy", "input": "cut", "response_format": "wav"}
    headers = {"Authorization": f"Bearer {woz.app_key}"}
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{woz.base_url}/audio/speech", json=request, headers=headers) as response,
    ):
        assert response.status == 200
        with pytest.raises(aiohttp.ClientPayloadError):
            await response.read()
    [record] = await speech_records(woz)
    assert record.status == "failed" and "connection" in (record.failure or "")
