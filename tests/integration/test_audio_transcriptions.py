"""Audio transcription: the official SDK uploads audio, an operator listens and types it."""

from __future__ import annotations

import asyncio
import io
import wave
from pathlib import Path
from typing import Any

import aiohttp
import openai
import pytest

from tests.conftest import Woz
from tests.integration.test_exports import research_post
from woz.config import Settings

SAID = "Hello there. How are you today?"


def wav_bytes(seconds: float = 2.0, rate: int = 8000) -> bytes:
    """A mono 16-bit WAV of silence, `seconds` long."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(b"\0\0" * int(seconds * rate))
    return buffer.getvalue()


def transcribe(
    client: openai.AsyncOpenAI, audio: tuple[str, bytes, str] | None = None, **kwargs: Any
) -> asyncio.Task[Any]:
    """Start `audio.transcriptions.create` in the background."""
    return asyncio.create_task(
        client.audio.transcriptions.create(
            file=audio or ("speech.wav", wav_bytes(), "audio/wav"), model="wizard", **kwargs
        )
    )


def media_files(settings: Settings) -> list[Path]:
    """The uploads on disk: SQLite's media folder (where uploads also arrive), and the
    local copies PostgreSQL's store keeps of what it holds."""
    folders = [settings.data / "media", settings.data / "media-cache"]
    return sorted(path for folder in folders if folder.exists() for path in folder.iterdir())


async def test_operator_hears_the_audio_and_the_app_gets_the_text(
    woz: Woz, openai_client: openai.AsyncOpenAI, settings: Settings
) -> None:
    """The task carries a media URL only operators can fetch; the reply is `{"text"}`."""
    op = await woz.online_operator()
    audio = wav_bytes()
    call = transcribe(openai_client, ("speech.wav", audio, "audio/wav"), language="en")
    task = await op.next_task()
    assert task["api"] == "openai.audio_transcriptions"
    assert task["messages"][0]["content"][0]["text"] == "Language: en"
    [part] = task["messages"][-1]["content"]
    assert part["type"] == "audio" and part["media_type"] == "audio/wav"
    assert part["url"].startswith("/operator/media/med_") and part["url"].endswith(".wav")
    headers = {"Authorization": f"Bearer {woz.operator_token}"}
    async with aiohttp.ClientSession() as http:
        async with http.get(woz.url + part["url"], headers=headers) as got:
            assert got.status == 200 and got.headers["Content-Type"] == "audio/wav"
            assert await got.read() == audio
        async with http.get(
            woz.url + part["url"], headers={**headers, "Range": "bytes=0-3"}
        ) as got:
            assert got.status == 206 and await got.read() == b"RIFF"
    ack = await op.reply(task["id"], SAID)
    result = await call
    assert result.text == SAID
    assert result.usage is not None and result.usage.type == "duration"
    assert result.usage.seconds == 2.0
    record = await woz.store.get_record(ack["record_id"])
    assert record is not None and record.api == "openai.audio_transcriptions"
    assert record.status == "delivered" and record.produced_by == "human"
    assert record.request["file"]["bytes"] == len(audio)
    assert [p.name for p in media_files(settings)] == [part["url"].rsplit("/", 1)[1]]


@pytest.mark.parametrize(
    ("response_format", "expected"),
    [
        ("text", SAID),
        (
            "srt",
            "1\n00:00:00,000 --> 00:00:00,800\nHello there.\n\n"
            "2\n00:00:00,800 --> 00:00:02,000\nHow are you today?\n\n",
        ),
        (
            "vtt",
            "WEBVTT\n\n00:00:00.000 --> 00:00:00.800\nHello there.\n\n"
            "00:00:00.800 --> 00:00:02.000\nHow are you today?\n",
        ),
    ],
)
async def test_plain_text_formats(
    woz: Woz, openai_client: openai.AsyncOpenAI, response_format: str, expected: str
) -> None:
    """text, srt and vtt come back as text/plain, timed in proportion to sentence length."""
    op = await woz.online_operator()
    raw = openai_client.audio.transcriptions.with_raw_response
    call = asyncio.create_task(
        raw.create(
            file=("speech.wav", wav_bytes(), "audio/wav"),
            model="wizard",
            response_format=response_format,  # type: ignore[arg-type]
        )
    )
    await op.reply((await op.next_task())["id"], SAID)
    response = await call
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.parse() == expected


async def test_verbose_json_has_segments_and_words(
    woz: Woz, openai_client: openai.AsyncOpenAI
) -> None:
    """verbose_json parses into the SDK's TranscriptionVerbose, segments spread over 2 s."""
    op = await woz.online_operator()
    call = transcribe(
        openai_client,
        response_format="verbose_json",
        timestamp_granularities=["segment", "word"],
        language="en",
    )
    await op.reply((await op.next_task())["id"], SAID)
    result = await call
    assert (result.text, result.language, result.duration) == (SAID, "en", 2.0)
    assert result.segments is not None and result.words is not None
    assert [(s.id, s.start, s.end, s.text) for s in result.segments] == [
        (0, 0.0, 0.8, " Hello there."),
        (1, 0.8, 2.0, " How are you today?"),
    ]
    assert [w.word for w in result.words] == SAID.split()
    assert result.words[-1].end == 2.0


def mp3_bytes(frames: int) -> bytes:
    """A silent MPEG-1 Layer III stream: 128 kbit/s, 44.1 kHz, mono, `frames` frames."""
    return (bytes([0xFF, 0xFB, 0x90, 0xC0]) + bytes(413)) * frames


async def test_an_mp3_s_duration_is_read_from_its_frames(
    woz: Woz, openai_client: openai.AsyncOpenAI
) -> None:
    """Beyond WAV, the length of an mp3 (or m4a, ogg, flac) comes from its headers."""
    op = await woz.online_operator()
    call = transcribe(
        openai_client, ("voice.mp3", mp3_bytes(100), "audio/mpeg"), response_format="verbose_json"
    )
    task = await op.next_task()
    await op.reply(task["id"], SAID)
    result = await call
    assert result.duration == 2.606  # 41,700 bytes at 128 kbit/s
    assert result.segments is not None and result.segments[-1].end == 2.606


async def test_audio_whose_length_cannot_be_told_has_no_duration(
    woz: Woz, openai_client: openai.AsyncOpenAI
) -> None:
    """A file with no readable audio header (most WebM recordings, or this) is played to the
    operator as it came; its duration is reported as 0.0."""
    op = await woz.online_operator()
    call = transcribe(
        openai_client,
        ("voice.mp3", b"ID3" + bytes(64), "audio/mpeg"),
        response_format="verbose_json",
    )
    task = await op.next_task()
    assert task["messages"][-1]["content"][0]["media_type"] == "audio/mpeg"
    await op.reply(task["id"], SAID)
    result = await call
    assert result.duration == 0.0 and result.usage is None
    assert result.segments is not None
    assert {(s.start, s.end) for s in result.segments} == {(0.0, 0.0)}


async def test_streaming_sends_deltas_then_done(
    woz: Woz, openai_client: openai.AsyncOpenAI
) -> None:
    """stream=true gives transcript.text.delta events joining to the text, then one done."""
    op = await woz.online_operator()

    async def consume() -> list[Any]:
        stream = await openai_client.audio.transcriptions.create(
            file=("speech.wav", wav_bytes(), "audio/wav"), model="wizard", stream=True
        )
        return [event async for event in stream]

    call = asyncio.create_task(consume())
    await op.reply((await op.next_task())["id"], SAID)
    events = await call
    assert {e.type for e in events[:-1]} == {"transcript.text.delta"}
    assert "".join(e.delta for e in events[:-1]) == SAID
    assert events[-1].type == "transcript.text.done" and events[-1].text == SAID


async def test_media_is_for_operators_only(woz: Woz, openai_client: openai.AsyncOpenAI) -> None:
    """No key, an app key, a foreign Origin, or a made-up id: the audio is not served."""
    op = await woz.online_operator()
    call = transcribe(openai_client)
    task = await op.next_task()
    url = woz.url + task["messages"][-1]["content"][0]["url"]
    async with aiohttp.ClientSession() as http:
        async with http.get(url) as got:
            assert got.status == 401
        async with http.get(url, headers={"Authorization": f"Bearer {woz.app_key}"}) as got:
            assert got.status == 401
        cookie = {"Cookie": "woz_console=whatever", "Origin": "https://evil.example"}
        async with http.get(url, headers=cookie) as got:
            assert got.status == 403
        operator = {"Authorization": f"Bearer {woz.operator_token}"}
        for bad in ("med_0.wav", "..%2Fwoz.db", "med_" + "0" * 32 + ".exe"):
            async with http.get(f"{woz.url}/operator/media/{bad}", headers=operator) as got:
                assert got.status == 404
    await op.reply(task["id"], SAID)
    await call


async def test_bad_uploads_are_400s_in_openai_shape(
    woz: Woz, openai_client: openai.AsyncOpenAI, settings: Settings
) -> None:
    """A file that is not audio, a missing file, a JSON body, an unknown model: all 400/404."""
    with pytest.raises(openai.BadRequestError) as caught:
        await transcribe(openai_client, ("notes.txt", b"hello", "text/plain"))
    assert caught.value.param == "file" and caught.value.code == "invalid_file_format"
    with pytest.raises(openai.NotFoundError):
        await openai_client.audio.transcriptions.create(
            file=("speech.wav", wav_bytes(), "audio/wav"), model="whisper-1"
        )
    with pytest.raises(openai.BadRequestError) as caught:
        await openai_client.post(
            "/audio/transcriptions",
            body={"model": "wizard"},
            files=[("prompt", ("p.txt", b"x", "text/plain"))],
            options={"headers": {"Content-Type": "multipart/form-data"}},
            cast_to=object,
        )
    assert caught.value.param == "file"
    with pytest.raises(openai.BadRequestError) as caught:
        await openai_client.post("/audio/transcriptions", body={"model": "wizard"}, cast_to=object)
    assert caught.value.code == "invalid_content_type"
    with pytest.raises(openai.BadRequestError) as caught:
        await transcribe(openai_client, response_format="diarized_json")
    assert caught.value.param == "response_format"
    assert media_files(settings) == []  # nothing is kept of a refused request


@pytest.mark.parametrize(
    "body",
    [
        b"no boundary in sight",
        b'--xyz\r\nContent-Disposition: form-data; name="file"; filename="a.wav"\r\n\r\nab',
        b"--xyz\r\nContent-Disposition: form-data\r\n\r\nnameless\r\n--xyz--\r\n",
    ],
)
async def test_malformed_multipart_is_a_400(woz: Woz, settings: Settings, body: bytes) -> None:
    """A body that is not the multipart it claims to be is an invalid_multipart 400."""
    headers = {
        "Authorization": f"Bearer {woz.app_key}",
        "Content-Type": "multipart/form-data; boundary=xyz",
    }
    async with aiohttp.ClientSession() as http:
        url = woz.base_url + "/audio/transcriptions"
        async with http.post(url, data=body, headers=headers) as got:
            assert got.status == 400
            assert (await got.json())["error"]["code"] == "invalid_multipart"
    assert media_files(settings) == []


async def test_no_operator_is_503_and_keeps_no_file(
    openai_client: openai.AsyncOpenAI, settings: Settings
) -> None:
    """With nobody online the upload is refused at once, and its file deleted."""
    with pytest.raises(openai.InternalServerError) as caught:
        await transcribe(openai_client)
    assert caught.value.status_code == 503
    assert media_files(settings) == []


async def test_audio_over_25_mb_is_refused(
    openai_client: openai.AsyncOpenAI, settings: Settings
) -> None:
    """A 26 MB upload is a 413 naming the file; nothing of it stays on disk."""
    big = b"\0" * (26 * 1024 * 1024)
    with pytest.raises(openai.APIStatusError) as caught:
        await transcribe(openai_client, ("long.wav", big, "audio/wav"))
    assert caught.value.status_code == 413 and caught.value.code == "file_too_large"
    assert media_files(settings) == []


async def test_withdrawal_deletes_the_participants_recordings(
    woz: Woz, openai_client: openai.AsyncOpenAI, settings: Settings
) -> None:
    """A participant's voice goes with their data: withdrawal removes the uploaded audio."""
    op = await woz.online_operator()
    calls = [
        transcribe(openai_client, extra_headers={"X-Woz-Participant": who})
        for who in ("ann", "ben")
    ]
    for _ in calls:
        task = await op.next_task()
        await op.reply(task["id"], SAID)
    await asyncio.gather(*calls)
    assert len(media_files(settings)) == 2
    await research_post(woz, "/participants/ann/withdraw")
    [kept] = media_files(settings)
    [record] = await woz.store.list_records(woz.study.id)
    assert record.messages[-1].content[0].url == "/operator/media/" + kept.name
