"""PCM16 arithmetic for speech: resampling chunk by chunk, and the streamed WAV header."""

from __future__ import annotations

import io
import itertools
import math
import struct
import wave

import pytest
from hypothesis import given
from hypothesis import strategies as st

from woz.media.speech.formats import wav_header
from woz.media.speech.pcm import Resampler, rms


def tone(frequency: float, rate: int, seconds: float, amplitude: int = 10_000) -> bytes:
    frames = int(rate * seconds)
    return struct.pack(
        f"<{frames}h",
        *(round(amplitude * math.sin(2 * math.pi * frequency * n / rate)) for n in range(frames)),
    )


def zero_crossings(pcm: bytes) -> int:
    samples = struct.unpack(f"<{len(pcm) // 2}h", pcm)
    return sum(1 for a, b in itertools.pairwise(samples) if (a < 0) != (b < 0))


def test_the_same_rate_passes_samples_through() -> None:
    """Resampling 24 kHz to 24 kHz changes nothing."""
    audio = tone(440, 24000, 0.1)
    assert Resampler(24000, 24000).feed(audio) == audio


def test_piper_rate_to_realtime_rate_keeps_length_pitch_and_level() -> None:
    """22,050 Hz to 24 kHz: the same duration, the same tone, the same loudness."""
    audio = tone(440, 22050, 1.0)
    out = Resampler(22050, 24000).feed(audio)
    assert abs(len(out) // 2 - 24000) <= 2
    assert abs(zero_crossings(out) - zero_crossings(audio)) <= 2
    assert rms(out) == pytest.approx(rms(audio), rel=0.01)


def test_a_constant_signal_stays_constant_going_down() -> None:
    """48 kHz to 24 kHz of a constant level is that level, half as many samples."""
    out = Resampler(48000, 24000).feed(struct.pack("<1000h", *([1234] * 1000)))
    assert set(struct.unpack(f"<{len(out) // 2}h", out)) == {1234}
    assert abs(len(out) // 2 - 500) <= 1


@given(
    st.binary(min_size=0, max_size=3000),
    st.lists(st.integers(min_value=0, max_value=3000), max_size=12),
    st.sampled_from([(22050, 24000), (16000, 24000), (24000, 22050), (44100, 24000)]),
)
def test_chunks_cut_anywhere_resample_like_the_whole(
    data: bytes, cuts: list[int], rates: tuple[int, int]
) -> None:
    """However a stream is chunked, odd bytes included, the output is the same samples."""
    whole = Resampler(*rates).feed(data)
    chunked = Resampler(*rates)
    pieces, previous = [], 0
    for cut in sorted(min(c, len(data)) for c in cuts):
        pieces.append(chunked.feed(data[previous:cut]))
        previous = cut
    pieces.append(chunked.feed(data[previous:]))
    assert b"".join(pieces) == whole
    assert all(len(piece) % 2 == 0 for piece in pieces)


def test_the_streamed_wav_header_reads_to_the_end() -> None:
    """A header of unknown length (0xFFFFFFFF) still gives Python's `wave` every sample."""
    audio = tone(440, 24000, 0.25)
    with wave.open(io.BytesIO(wav_header(24000) + audio), "rb") as streamed:
        assert (streamed.getnchannels(), streamed.getsampwidth()) == (1, 2)
        assert streamed.getframerate() == 24000 and streamed.readframes(1 << 30) == audio
    with wave.open(io.BytesIO(wav_header(24000, len(audio)) + audio), "rb") as sized:
        assert sized.getnframes() == len(audio) // 2
