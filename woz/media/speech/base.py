"""The seam every speech engine fits: text in, PCM16 mono out, chunk by chunk.

An engine turns text into signed 16-bit little-endian mono samples at the rate
the caller asks for (24 kHz for anything OpenAI-shaped), yielding each chunk as
soon as it exists, so speech can start before the whole text is synthesised.
Synthesis runs off the event loop (a thread or a subprocess). Engines raise
`SpeechUnavailable` when they cannot run on this machine at all (a package or a
binary is missing) and `SpeechFailed` when one synthesis goes wrong; both carry a
message a researcher can act on.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Protocol

OUTPUT_RATE = 24_000
"""The Realtime API's and `/v1/audio/speech`'s `pcm` rate: 24 kHz, PCM16, mono."""

MAX_INPUT_CHARS = 4096
"""The longest text one synthesis takes (OpenAI's limit for `/v1/audio/speech`)."""

OPENAI_VOICES = frozenset(
    {
        "alloy",
        "ash",
        "ballad",
        "cedar",
        "coral",
        "echo",
        "fable",
        "marin",
        "nova",
        "onyx",
        "sage",
        "shimmer",
        "verse",
    }
)
"""OpenAI's built-in voice names: an app may ask for any, and hears the study's voice."""


class SpeechError(Exception):
    """Speech could not be produced; `str()` says why, in terms a researcher can act on."""


class SpeechUnavailable(SpeechError):
    """The engine cannot run here (its package or binary is missing)."""


class SpeechFailed(SpeechError):
    """One synthesis failed (the engine crashed, or its upstream refused)."""


class SpeechEngine(Protocol):
    """A text-to-speech engine; `name` is what records call it (`piper`, `espeak`, ...)."""

    name: str

    async def voices(self) -> list[str]:
        """The voice names this engine can speak with here."""

    def synthesize(
        self,
        text: str,
        *,
        voice: str,
        speed: float = 1.0,
        rate: int = OUTPUT_RATE,
        instructions: str | None = None,
    ) -> AsyncGenerator[bytes, None]:
        """PCM16 mono at `rate` Hz, chunk by chunk (each an even number of bytes).

        Closing the generator early (`aclose()`) stops the synthesis and frees what
        it holds (a subprocess, a connection).

        `speed` is relative to the voice's own pace (0.25 to 4.0). `instructions`
        (tone, accent) reach engines that take them, a model upstream; local engines
        ignore them. Text longer than `MAX_INPUT_CHARS` is refused with
        `SpeechFailed`; callers check it first.
        """


def check_length(text: str) -> None:
    """Refuse text past `MAX_INPUT_CHARS`: every engine's work is bounded by its input."""
    if len(text) > MAX_INPUT_CHARS:
        raise SpeechFailed(f"the text is {len(text)} characters long; at most {MAX_INPUT_CHARS}")


__all__ = [
    "MAX_INPUT_CHARS",
    "OPENAI_VOICES",
    "OUTPUT_RATE",
    "SpeechEngine",
    "SpeechError",
    "SpeechFailed",
    "SpeechUnavailable",
    "check_length",
]
