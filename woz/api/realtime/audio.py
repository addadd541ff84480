"""The Realtime API's audio formats: base64 PCM16 at 24 kHz, and G.711 μ-law / A-law.

Inside a session all audio is PCM16 mono at 24 kHz (`OUTPUT_RATE`): the voice
detector, the utterances saved for the wizard and the speech synthesised for the
answer. `Codec` converts one direction of one session's audio between that and the
wire format the session chose (`audio/pcm`, `audio/pcmu`, `audio/pcma`; G.711 is
8 kHz), keeping resampler state between chunks so there is no click at their
seams. The work is linear in the audio, and callers run it off the event loop
when the chunk is large.
"""

from __future__ import annotations

import base64
import binascii
import io
import wave
from array import array
from typing import Literal

from woz.media.speech.base import OUTPUT_RATE
from woz.media.speech.pcm import SAMPLE_WIDTH, Resampler, bytes_of, samples_of

AudioFormat = Literal["audio/pcm", "audio/pcmu", "audio/pcma"]
G711_RATE = 8_000


class BadAudio(ValueError):
    """Audio that is not what its format says (not base64, an odd byte count)."""


def _ulaw_decode(byte: int) -> int:
    byte = ~byte & 0xFF
    sign, exponent, mantissa = byte & 0x80, (byte >> 4) & 0x07, byte & 0x0F
    magnitude = ((mantissa << 3) + 0x84) << exponent
    return -(magnitude - 0x84) if sign else magnitude - 0x84


def _alaw_decode(byte: int) -> int:
    byte ^= 0x55
    sign, exponent, mantissa = byte & 0x80, (byte >> 4) & 0x07, byte & 0x0F
    magnitude = (
        (mantissa << 4) + 8 if exponent == 0 else ((mantissa << 4) + 0x108) << (exponent - 1)
    )
    return magnitude if sign else -magnitude


_ULAW_SEGMENTS = (0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF)
_ALAW_SEGMENTS = (0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF)


def _segment(value: int, ends: tuple[int, ...]) -> int:
    return next((i for i, end in enumerate(ends) if value <= end), len(ends))


def _ulaw_encode(sample: int) -> int:
    # ITU-T G.711 as the reference implementation (and Python's audioop) computes it.
    value = sample >> 2
    mask = 0xFF
    if value < 0:
        value, mask = -value, 0x7F
    value = min(value, 8159) + 0x21
    segment = _segment(value, _ULAW_SEGMENTS)
    if segment >= 8:
        return 0x7F ^ mask
    return ((segment << 4) | ((value >> (segment + 1)) & 0x0F)) ^ mask


def _alaw_encode(sample: int) -> int:
    value = sample >> 3
    mask = 0xD5
    if value < 0:
        value, mask = -value - 1, 0x55
    segment = _segment(value, _ALAW_SEGMENTS)
    if segment >= 8:
        return 0x7F ^ mask
    shift = 1 if segment < 2 else segment
    return ((segment << 4) | ((value >> shift) & 0x0F)) ^ mask


# 256 entries to decode, 65,536 to encode: a table lookup per sample instead of arithmetic.
_DECODE = {
    "audio/pcmu": array("h", (_ulaw_decode(b) for b in range(256))),
    "audio/pcma": array("h", (_alaw_decode(b) for b in range(256))),
}
_ENCODE = {
    "audio/pcmu": bytes(_ulaw_encode(s - 65536 if s > 32767 else s) for s in range(65536)),
    "audio/pcma": bytes(_alaw_encode(s - 65536 if s > 32767 else s) for s in range(65536)),
}


def b64decode(text: str) -> bytes:
    """Strict base64 (the API's `audio` fields); `BadAudio` for anything else."""
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise BadAudio(f"the audio is not valid base64: {exc}") from exc


def b64encode(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


class Decoder:
    """Wire audio (one format) in, PCM16 at 24 kHz out, chunk by chunk."""

    def __init__(self, fmt: AudioFormat) -> None:
        self.format = fmt
        self._up = None if fmt == "audio/pcm" else Resampler(G711_RATE, OUTPUT_RATE)
        self._odd = b""

    def feed(self, data: bytes) -> bytes:
        if self._up is None:
            # A client may split a sample across two appends: keep the odd byte.
            data = self._odd + data
            whole = len(data) & ~1
            self._odd = data[whole:]
            return data[:whole]
        table = _DECODE[self.format]
        pcm = bytes_of(array("h", [table[b] for b in data]))
        return self._up.feed(pcm)


class Encoder:
    """PCM16 at 24 kHz in, wire audio (one format) out, chunk by chunk."""

    def __init__(self, fmt: AudioFormat) -> None:
        self.format = fmt
        self._down = None if fmt == "audio/pcm" else Resampler(OUTPUT_RATE, G711_RATE)

    def feed(self, pcm: bytes) -> bytes:
        if self._down is None:
            return pcm
        table = _ENCODE[self.format]
        return bytes(table[s & 0xFFFF] for s in samples_of(self._down.feed(pcm)))


def wav_of(pcm: bytes, rate: int = OUTPUT_RATE) -> bytes:
    """PCM16 mono as a WAV file (what the wizard's console plays and exports carry)."""
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(SAMPLE_WIDTH)
        wav.setframerate(rate)
        wav.writeframes(pcm)
    return out.getvalue()


def ms_of(byte_count: int) -> int:
    """How many milliseconds `byte_count` bytes of 24 kHz PCM16 last."""
    return byte_count * 1000 // (SAMPLE_WIDTH * OUTPUT_RATE)


def bytes_for_ms(ms: int) -> int:
    """The (even) number of bytes of 24 kHz PCM16 that last `ms` milliseconds."""
    return (ms * OUTPUT_RATE // 1000) * SAMPLE_WIDTH


__all__ = [
    "AudioFormat",
    "BadAudio",
    "Decoder",
    "Encoder",
    "b64decode",
    "b64encode",
    "bytes_for_ms",
    "ms_of",
    "wav_of",
]
