"""The fallback engine: Debian's `espeak-ng` binary, run as a subprocess per synthesis.

Formant synthesis: robotic, but tiny, fast and in every language espeak-ng knows.
The text goes in on standard input (never on the command line), the WAV comes
out on standard output and is streamed as it arrives; a client that leaves ends
the process. Voices are espeak-ng's language codes (`en-us`, `en-gb`, `de`, ...),
optionally with a variant (`en-us+f3`). `speed` scales espeak-ng's default of 175
words a minute.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import shutil
import struct
from collections.abc import AsyncGenerator

from woz.media.speech.base import OUTPUT_RATE, SpeechFailed, SpeechUnavailable, check_length
from woz.media.speech.pcm import resampled

BINARY = "espeak-ng"
DEFAULT_VOICE = "en-us"
VOICE_NAME = re.compile(r"^[A-Za-z0-9_-]{1,40}(\+[A-Za-z0-9_-]{1,20})?$")
WORDS_PER_MINUTE = 175
_MIN_WPM, _MAX_WPM = 80, 500
_READ_BYTES = 8192  # about a fifth of a second of audio per chunk
_HEADER_LIMIT = 4096  # a WAV header longer than this is not espeak-ng's


class EspeakEngine:
    """`SpeechEngine` over the `espeak-ng` binary."""

    name = "espeak"

    def __init__(self, binary: str = BINARY) -> None:
        self._binary = binary
        self._voices: list[str] | None = None

    def _path(self) -> str:
        path = shutil.which(self._binary)
        if path is None:
            raise SpeechUnavailable(
                f"the espeak engine needs the {self._binary} program: "
                f"apt-get install {BINARY} (Debian, Ubuntu)"
            )
        return path

    async def voices(self) -> list[str]:
        """espeak-ng's language codes (`espeak-ng --voices`), read once."""
        if self._voices is None:
            process = await asyncio.create_subprocess_exec(
                self._path(),
                "--voices",
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.DEVNULL,
            )
            listing, _ = await process.communicate()
            codes = {line.split()[1] for line in listing.decode().splitlines()[1:] if line.split()}
            self._voices = sorted(codes)
        return self._voices

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
        if not VOICE_NAME.match(voice):
            raise SpeechFailed(f"{voice!r} is not an espeak-ng voice name such as en-us")
        wpm = round(min(max(WORDS_PER_MINUTE * speed, _MIN_WPM), _MAX_WPM))
        process = await asyncio.create_subprocess_exec(
            self._path(),
            "--stdout",
            "--stdin",
            "-b",
            "1",  # the input is UTF-8
            "-v",
            voice,
            "-s",
            str(wpm),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            assert process.stdin is not None and process.stdout is not None
            process.stdin.write(text.encode())
            process.stdin.close()
            source_rate, first = await _read_header(process.stdout, voice)
            audio = resampled(_body(first, process.stdout), source_rate, rate)
            async with contextlib.aclosing(audio):
                async for pcm in audio:
                    yield pcm
            if await process.wait() != 0:
                raise SpeechFailed(f"espeak-ng failed: {await _stderr(process)}")
        finally:
            if process.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                await process.wait()


async def _read_header(stdout: asyncio.StreamReader, voice: str) -> tuple[int, bytes]:
    """The sample rate from espeak-ng's WAV header, and the bytes of data after it.

    espeak-ng streams, so the header's sizes are placeholders: only the format
    (PCM16 mono) and the rate are read; the data runs to the end of the output.
    """
    head = b""
    while True:
        chunk = await stdout.read(_READ_BYTES)
        if not chunk:
            raise SpeechFailed(f"espeak-ng produced no audio (is {voice!r} one of its voices?)")
        head += chunk
        found = _parse_header(head)
        if found is not None:
            return found
        if len(head) > _HEADER_LIMIT:
            raise SpeechFailed("espeak-ng's output is not a WAV stream")


def _parse_header(head: bytes) -> tuple[int, bytes] | None:
    if len(head) < 12:
        return None
    if head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        raise SpeechFailed("espeak-ng's output is not a WAV stream")
    offset, rate = 12, 0
    while offset + 8 <= len(head):
        kind, size = head[offset : offset + 4], struct.unpack_from("<I", head, offset + 4)[0]
        if kind == b"data":
            return rate, head[offset + 8 :]
        if offset + 8 + size > len(head):
            return None
        if kind == b"fmt ":
            audio_format, channels, rate = struct.unpack_from("<HHI", head, offset + 8)
            bits = struct.unpack_from("<H", head, offset + 22)[0]
            if (audio_format, channels, bits) != (1, 1, 16):
                raise SpeechFailed("espeak-ng's output is not PCM16 mono")
        offset += 8 + size + (size & 1)
    return None


async def _body(first: bytes, stdout: asyncio.StreamReader) -> AsyncGenerator[bytes, None]:
    if first:
        yield first
    while chunk := await stdout.read(_READ_BYTES):
        yield chunk


async def _stderr(process: asyncio.subprocess.Process) -> str:
    assert process.stderr is not None
    return (await process.stderr.read(500)).decode(errors="replace").strip() or (
        f"exit status {process.returncode}"
    )


__all__ = ["DEFAULT_VOICE", "VOICE_NAME", "EspeakEngine"]
