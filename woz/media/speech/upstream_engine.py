"""Speech by a real model: an OpenAI-compatible `/v1/audio/speech` named in `[[upstreams]]`.

The upstream is asked for `pcm` (OpenAI's 24 kHz PCM16 mono, no header) and its
body is streamed through as it arrives, resampled if another rate is wanted. Its
`model` is the upstream's; the voice is the study's (or the one the app named,
among those the study allows). Failures (refused, an HTTP error, a timeout)
become `SpeechFailed` with the upstream's reason.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator

from woz.assist.upstream import UpstreamError, Upstreams
from woz.media.speech.base import OUTPUT_RATE, SpeechFailed, check_length
from woz.media.speech.pcm import resampled
from woz.models.study import Upstream

DEFAULT_VOICE = "alloy"
UPSTREAM_RATE = 24_000  # what OpenAI's `pcm` response format is


class UpstreamEngine:
    """`SpeechEngine` over one upstream's `/audio/speech`."""

    name = "upstream"

    def __init__(self, upstreams: Upstreams, spec: Upstream, voice: str) -> None:
        self._upstreams = upstreams
        self.spec = spec
        self._voice = voice

    async def voices(self) -> list[str]:
        return [self._voice]

    async def synthesize(
        self,
        text: str,
        *,
        voice: str,
        speed: float = 1.0,
        rate: int = OUTPUT_RATE,
        instructions: str | None = None,
    ) -> AsyncGenerator[bytes, None]:
        check_length(text)
        body: dict[str, object] = {
            "model": self.spec.model,
            "input": text,
            "voice": voice,
            "response_format": "pcm",
            "speed": speed,
        }
        if instructions:
            body["instructions"] = instructions
        chunks = self._upstreams.stream_body(self.spec.id, "/audio/speech", body)
        try:
            async with contextlib.aclosing(resampled(chunks, UPSTREAM_RATE, rate)) as audio:
                async for pcm in audio:
                    yield pcm
        except UpstreamError as exc:
            raise SpeechFailed(str(exc)) from exc


__all__ = ["DEFAULT_VOICE", "UpstreamEngine"]
