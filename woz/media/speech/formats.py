"""Audio formats of `/v1/audio/speech`: PCM16 chunks in, the response body's bytes out.

Every format here streams: its first bytes go out with the first sentence.
- `pcm`: the samples as they are (24 kHz, 16-bit signed little-endian, mono).
- `wav`: a 44-byte header, then the samples. The header's sizes are 0xFFFFFFFF, as
  OpenAI's streamed WAV has them: the length is not known when the header is sent.
  Players and Python's `wave` module read such a file to its end.
- `mp3`: encoded as it goes with LAME (PyPI `lameenc`), 64 kbit/s mono.
`opus`, `aac` and `flac` would each need a native encoder library, so they are refused.
"""

from __future__ import annotations

import struct
from typing import Protocol

import lameenc

from woz.media.speech.pcm import SAMPLE_WIDTH

STREAMING_SIZE = 0xFFFFFFFF  # "unknown length", in both RIFF size fields
MP3_KBPS = 64


class AudioEncoder(Protocol):
    """One response body: `start`, then `encode` per chunk of PCM16, then `finish`."""

    content_type: str
    costly: bool  # worth a worker thread per chunk

    def start(self) -> bytes: ...

    def encode(self, pcm: bytes) -> bytes: ...

    def finish(self) -> bytes: ...


class PcmEncoder:
    content_type = "audio/pcm"
    costly = False

    def start(self) -> bytes:
        return b""

    def encode(self, pcm: bytes) -> bytes:
        return pcm

    def finish(self) -> bytes:
        return b""


class WavEncoder(PcmEncoder):
    content_type = "audio/wav"

    def __init__(self, rate: int) -> None:
        self.rate = rate

    def start(self) -> bytes:
        return wav_header(self.rate)


class Mp3Encoder:
    content_type = "audio/mpeg"
    costly = True

    def __init__(self, rate: int) -> None:
        self._lame = lameenc.Encoder()
        self._lame.set_bit_rate(MP3_KBPS)
        self._lame.set_in_sample_rate(rate)
        self._lame.set_channels(1)
        self._lame.set_quality(5)  # LAME's 2 (best) to 7 (fastest)

    def start(self) -> bytes:
        return b""

    def encode(self, pcm: bytes) -> bytes:
        return bytes(self._lame.encode(pcm))

    def finish(self) -> bytes:
        return bytes(self._lame.flush())


def wav_header(rate: int, data_size: int = STREAMING_SIZE) -> bytes:
    """A PCM16 mono WAV header; the default size says "read to the end"."""
    riff_size = STREAMING_SIZE if data_size == STREAMING_SIZE else 36 + data_size
    return (
        b"RIFF"
        + struct.pack("<I", riff_size)
        + b"WAVE"
        + struct.pack(
            "<4sIHHIIHH4sI",
            b"fmt ",
            16,
            1,  # PCM
            1,  # mono
            rate,
            rate * SAMPLE_WIDTH,
            SAMPLE_WIDTH,
            8 * SAMPLE_WIDTH,
            b"data",
            data_size,
        )
    )


SUPPORTED = ("mp3", "wav", "pcm")
REFUSED = ("opus", "aac", "flac")


def encoder_for(response_format: str, rate: int) -> AudioEncoder:
    """The encoder of a supported `response_format` (see `SUPPORTED`)."""
    if response_format == "wav":
        return WavEncoder(rate)
    if response_format == "pcm":
        return PcmEncoder()
    if response_format == "mp3":
        return Mp3Encoder(rate)
    raise ValueError(f"unsupported response_format {response_format!r}")


__all__ = ["REFUSED", "SUPPORTED", "AudioEncoder", "encoder_for", "wav_header"]
