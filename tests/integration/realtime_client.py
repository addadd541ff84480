"""Helpers for driving `/v1/realtime` with the official SDK: strict event reading and speech."""

from __future__ import annotations

import asyncio
import base64
import io
import math
import struct
import subprocess
import wave
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from openai import AsyncOpenAI
from openai.resources.realtime.realtime import AsyncRealtimeConnection
from openai.types.realtime import RealtimeServerEvent
from pydantic import TypeAdapter

from woz.jsontext import loads
from woz.media.speech.pcm import Resampler

RATE = 24_000
SERVER_EVENT: TypeAdapter[RealtimeServerEvent] = TypeAdapter(RealtimeServerEvent)


class Events:
    """Every server event of one connection, each validated strictly against the SDK's
    own models as it arrives."""

    def __init__(self, connection: AsyncRealtimeConnection, timeout: float = 15.0) -> None:
        self.connection = connection
        self.timeout = timeout
        self.seen: list[dict[str, Any]] = []

    async def next(self) -> dict[str, Any]:
        async with asyncio.timeout(self.timeout):
            raw = await self.connection.recv_bytes()
        frame = loads(raw)
        assert isinstance(frame, dict)
        SERVER_EVENT.validate_python(frame, strict=False)
        self.seen.append(frame)
        return frame

    async def until(self, kind: str, **match: Any) -> list[dict[str, Any]]:
        """The events up to and including the first of type `kind` (matching `match`)."""
        got: list[dict[str, Any]] = []
        while True:
            frame = await self.next()
            got.append(frame)
            if frame["type"] == kind and all(frame.get(k) == v for k, v in match.items()):
                return got


@asynccontextmanager
async def opened(
    client: AsyncOpenAI, model: str = "wizard"
) -> AsyncIterator[tuple[AsyncRealtimeConnection, Events]]:
    """A Realtime session of `model` through the SDK, past its `session.created`."""
    async with client.realtime.connect(model=model) as connection:
        events = Events(connection)
        await events.until("session.created")
        yield connection, events


def of_type(events: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [e for e in events if e["type"] == kind]


def audio_of(events: list[dict[str, Any]]) -> bytes:
    return b"".join(
        base64.b64decode(e["delta"]) for e in of_type(events, "response.output_audio.delta")
    )


def silence(seconds: float) -> bytes:
    return b"\0\0" * int(seconds * RATE)


def tone(seconds: float, hz: float = 220.0, amplitude: int = 8000) -> bytes:
    """A synthetic voiced signal: a sine wave at 24 kHz PCM16."""
    count = int(seconds * RATE)
    return struct.pack(
        f"<{count}h",
        *(int(amplitude * math.sin(2 * math.pi * hz * i / RATE)) for i in range(count)),
    )


def spoken(text: str) -> bytes:
    """`text` said by espeak-ng, as 24 kHz PCM16."""
    wav = subprocess.run(
        ["espeak-ng", "--stdout", text], check=True, capture_output=True, timeout=30
    ).stdout
    with wave.open(io.BytesIO(wav), "rb") as audio:
        rate = audio.getframerate()
        frames = audio.readframes(audio.getnframes() or (1 << 30))
    return Resampler(rate, RATE).feed(frames)


async def stream(connection: AsyncRealtimeConnection, pcm: bytes, chunk_ms: int = 100) -> None:
    """Append `pcm` in chunks, as a microphone would (without waiting between them)."""
    step = RATE * 2 * chunk_ms // 1000
    for start in range(0, len(pcm), step):
        chunk = base64.b64encode(pcm[start : start + step]).decode()
        await connection.input_audio_buffer.append(audio=chunk)
