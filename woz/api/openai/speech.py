"""`POST /v1/audio/speech`: the study's voice speaks the app's text; no operator is involved.

Apps that chain a chat answer into speech call this with the wizard's text. The
engine is the study's (`[voice]`: piper, espeak-ng or a real model upstream);
the audio streams sentence by sentence as it is synthesised, as `wav`, `pcm` or
`mp3` (`opus`, `aac` and `flac` are refused), or as `speech.audio.delta` /
`speech.audio.done` events with `stream_format: "sse"`.

`model` is a persona id or any name with `tts` in it (`tts-1`, `gpt-4o-mini-tts`);
`voice` is one of OpenAI's voice names (the study's voice speaks) or one of the
engine's own. `speed` (0.25 to 4.0) multiplies the study's `[voice] speed`.

Each request is recorded with `produced_by = "model"`: the text as a user message
(redacted as `[privacy]` says), the engine and voice as the model
(`piper:en_US-joe-medium`), and an answer that summarises the audio (format,
voice, duration); the audio itself is not kept, as the same engine makes it
again from the text. The record is committed before the first byte is sent and
committed again with the duration when the audio is complete.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any, Literal

import structlog
from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from woz.api.core.fields import parse_body
from woz.api.core.intake import find_persona, intake, read_json
from woz.api.core.pacing import count_tokens
from woz.api.core.sse import ClientGone, EventStream
from woz.context import runtime_of
from woz.errors import ErrorKind, WozError, invalid_request
from woz.media.speech import (
    MAX_INPUT_CHARS,
    OUTPUT_RATE,
    SpeechError,
    SpeechUnavailable,
    StudyVoice,
)
from woz.media.speech.formats import REFUSED, SUPPORTED, AudioEncoder, encoder_for
from woz.media.speech.pcm import duration_s
from woz.models.record import RecordStatus, Timings
from woz.models.task import Answer, ContentPart, Message, ProducedBy, Task, new_id

API = "openai.audio_speech"
log = structlog.get_logger(__name__)


class _VoiceId(BaseModel):
    id: str = Field(min_length=1, max_length=200)


class SpeechRequest(BaseModel):
    """The fields woz acts on; the others are kept in the record and ignored."""

    model_config = ConfigDict(extra="allow")

    model: str = Field(min_length=1)
    input: str
    voice: str | _VoiceId
    instructions: str | None = Field(default=None, max_length=MAX_INPUT_CHARS)
    response_format: str = "mp3"
    speed: float = Field(default=1.0, ge=0.25, le=4.0)
    stream_format: Literal["sse", "audio"] = "audio"


async def create_speech(request: web.Request) -> web.StreamResponse:
    body, raw = await read_json(request)
    wire = parse_body(SpeechRequest, body)
    _check_input(wire.input)
    _check_format(wire.response_format)
    persona = _persona(request, wire.model)
    speaking = runtime_of(request).speech
    voice = await _voice(speaking, wire.voice)
    speed = min(max(wire.speed * speaking.plan.speed, 0.25), 4.0)
    task = _task(request, wire, body, raw, persona, speaking)
    task = await runtime_of(request).admission(task)
    return await _Speech(request, task, wire, speaking, voice, speed).run()


def _check_input(text: str) -> None:
    if not text.strip():
        raise invalid_request("'input' must not be empty: give the text to speak.", param="input")
    if len(text) > MAX_INPUT_CHARS:
        raise invalid_request(
            f"'input' is {len(text)} characters long; the maximum is {MAX_INPUT_CHARS}.",
            param="input",
            code="string_above_max_length",
        )


def _check_format(response_format: str) -> None:
    if response_format in SUPPORTED:
        return
    why = "woz has no encoder for it" if response_format in REFUSED else "it is not a format"
    raise invalid_request(
        f"'response_format' {response_format!r} is not supported ({why}): "
        f"woz speaks {', '.join(SUPPORTED)}.",
        param="response_format",
        code="unsupported_value",
    )


def _persona(request: web.Request, model: str) -> str:
    """The record's persona: the persona named, or the speech model's name as sent."""
    if "tts" in model.lower() and runtime_of(request).study.persona(model) is None:
        return model
    return find_persona(request, model).id  # a 404 for anything else


async def _voice(speaking: StudyVoice, requested: str | _VoiceId) -> str:
    name = requested if isinstance(requested, str) else requested.id
    try:
        voice = await speaking.resolve(name)
    except SpeechError as exc:  # the engine cannot even list its voices here
        raise _unavailable(exc) from exc
    if voice is None:
        offered = sorted(await speaking.engine.voices())
        shown = ", ".join(offered[:20]) + (", ..." if len(offered) > 20 else "")
        raise invalid_request(
            f"'voice' {name!r} is not a voice of this study's {speaking.engine.name} engine: "
            f"use one of OpenAI's voice names (the study's voice, {speaking.voice}, speaks), "
            f"or one of: {shown}.",
            param="voice",
            code="invalid_value",
        )
    return voice


def _task(
    request: web.Request,
    wire: SpeechRequest,
    body: dict[str, Any],
    raw: bytes,
    persona: str,
    speaking: StudyVoice,
) -> Task:
    facts = intake(request, raw, None).task_fields()
    facts["conversation_id"] = facts["conversation_id"] or new_id("conv_")
    messages = [Message(role="user", content=[ContentPart(type="text", text=wire.input)])]
    if wire.instructions:
        text = ContentPart(type="text", text=wire.instructions)
        messages.insert(0, Message(role="system", content=[text]))
    return Task(
        study_id=runtime_of(request).study.id,
        persona=persona,
        api=API,
        messages=messages,
        stream=True,
        mode="model",
        upstream=speaking.plan.upstream,
        request={k: v for k, v in body.items() if k not in ("input", "instructions")},
        **facts,
    )


def _unavailable(exc: SpeechError) -> WozError:
    # 503, not 500: the server is fine, this machine lacks the engine the study names.
    return WozError(
        ErrorKind.OVERLOADED,
        f"Speech is not available on this server: {exc}.",
        code="speech_unavailable",
        retryable=False,
    )


class _Speech:
    """One synthesis: the record, then the audio as it is made, then the record again."""

    def __init__(
        self,
        request: web.Request,
        task: Task,
        wire: SpeechRequest,
        speaking: StudyVoice,
        voice: str,
        speed: float,
    ) -> None:
        self.request = request
        self.task = task
        self.wire = wire
        self.speaking = speaking
        self.voice = voice
        self.speed = speed
        self.recorder = runtime_of(request).recorder
        self.timings = Timings(received_at=task.received_at)
        self.pcm_bytes = 0

    def answer(self, duration: float | None) -> Answer:
        summary = {
            "audio": {
                "engine": self.speaking.engine.name,
                "voice": self.voice,
                "speed": self.speed,
                "response_format": self.wire.response_format,
                "sample_rate": OUTPUT_RATE,
                "duration_s": duration,
            }
        }
        model = self.speaking.model
        if self.voice != self.speaking.voice:
            model = f"{self.speaking.engine.name}:{self.voice}"
        return Answer(content=json.dumps(summary), produced_by=ProducedBy.MODEL, model=model)

    async def run(self) -> web.StreamResponse:
        chunks = self.speaking.engine.synthesize(
            self.wire.input,
            voice=self.voice,
            speed=self.speed,
            rate=OUTPUT_RATE,
            instructions=self.wire.instructions,
        )
        async with contextlib.aclosing(chunks):
            first = await self._first(chunks)
            self.timings.answered_at = datetime.now(UTC)
            record_id = await self.recorder.answered(
                self.task, None, self.answer(None), self.timings
            )
            encoder = encoder_for(self.wire.response_format, OUTPUT_RATE)
            writer: _AudioBody | _SseBody = (
                _SseBody(self.request)
                if self.wire.stream_format == "sse"
                else _AudioBody(self.request, encoder.content_type)
            )
            try:
                await writer.open()
                await writer.send(encoder.start())
                await self._send(writer, encoder, first)
                async for pcm in chunks:
                    await self._send(writer, encoder, pcm)
                await writer.send(await _encode(encoder, None))
            except SpeechError as exc:
                await self._failed(str(exc))
                await writer.abort(_failure(exc))
                return writer.response
            except (ClientGone, ConnectionResetError, RuntimeError, asyncio.CancelledError):
                self.recorder.delivered(record_id, False, datetime.now(UTC))
                raise
            duration = round(duration_s(self.pcm_bytes, OUTPUT_RATE), 3)
            await self.recorder.answered(self.task, None, self.answer(duration), self.timings)
            await writer.finish(count_tokens(self.wire.input))
            self.recorder.delivered(record_id, True, datetime.now(UTC))
            return writer.response

    async def _first(self, chunks: AsyncIterator[bytes]) -> bytes:
        """The first audio, before anything is sent: an engine that cannot start is an
        HTTP error, recorded as failed."""
        try:
            return await anext(chunks)
        except StopAsyncIteration:
            return b""  # nothing speakable in the text: an empty recording
        except SpeechError as exc:
            await self._failed(str(exc))
            if isinstance(exc, SpeechUnavailable):
                raise _unavailable(exc) from exc
            raise _failure(exc) from exc

    async def _send(self, writer: _AudioBody | _SseBody, encoder: AudioEncoder, pcm: bytes) -> None:
        self.pcm_bytes += len(pcm)
        await writer.send(await _encode(encoder, pcm))

    async def _failed(self, why: str) -> None:
        await self.recorder.unanswered(
            self.task, None, RecordStatus.FAILED, self.timings, failure=f"speech: {why}"
        )


async def _encode(encoder: AudioEncoder, pcm: bytes | None) -> bytes:
    """`pcm` encoded (None: the end of the audio), in a worker thread if that is costly."""
    step = encoder.finish if pcm is None else lambda: encoder.encode(pcm)
    return await asyncio.to_thread(step) if encoder.costly else step()


def _failure(exc: SpeechError) -> WozError:
    # A 502 whichever engine failed: a local engine (a subprocess, a model) is as much
    # a service woz depends on as an upstream, and woz itself did not fail.
    return WozError(ErrorKind.UPSTREAM, f"Speech synthesis failed: {exc}.", code="speech_failed")


class _AudioBody:
    """The audio itself as the response body, chunked as it is made."""

    def __init__(self, request: web.Request, content_type: str) -> None:
        self.request = request
        self.response = web.StreamResponse(
            headers={"Content-Type": content_type, "Cache-Control": "no-cache"}
        )

    async def open(self) -> None:
        await self.response.prepare(self.request)

    async def send(self, data: bytes) -> None:
        if data:
            await self.response.write(data)

    async def finish(self, input_tokens: int) -> None:
        await self.response.write_eof()

    async def abort(self, error: WozError) -> None:
        """Headers are gone: cut the connection so the client sees an incomplete body,
        never a short recording that looks whole."""
        if self.request.transport is not None:
            self.request.transport.close()


class _SseBody:
    """`speech.audio.delta` events carrying base64 audio, then `speech.audio.done`."""

    def __init__(self, request: web.Request) -> None:
        self.events = EventStream(request)
        self.response = self.events.response

    async def open(self) -> None:
        await self.events.open()

    async def send(self, data: bytes) -> None:
        if data:
            audio = base64.b64encode(data).decode()
            await self.events.data({"type": "speech.audio.delta", "audio": audio})

    async def finish(self, input_tokens: int) -> None:
        usage = {"input_tokens": input_tokens, "output_tokens": 0, "total_tokens": input_tokens}
        await self.events.data({"type": "speech.audio.done", "usage": usage})
        await self.events.close()

    async def abort(self, error: WozError) -> None:
        await self.events.data(
            {"type": "error", "error": {"message": error.message, "code": error.code}}
        )
        await self.events.close()
