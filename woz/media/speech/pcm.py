"""PCM16 mono helpers in plain Python: resampling, byte alignment, level and duration.

Engines speak at their own rates (piper's and espeak-ng's voices at 22,050 Hz);
the Realtime API and `/v1/audio/speech` want 24 kHz. `Resampler` converts a
stream chunk by chunk with linear interpolation in exact integer steps (no drift
over a long text, no click between chunks), which is plenty for speech: going up
from 22,050 Hz adds no aliasing, and voices carry little energy near the top of
the band. It is linear in its input, and costs about 1% of the audio's duration, off the event loop.
(`audioop` is deprecated and removed in Python 3.13.)
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import sys
from array import array
from collections.abc import AsyncGenerator
from math import gcd

SAMPLE_WIDTH = 2  # bytes per sample: PCM16


def samples_of(pcm: bytes) -> array[int]:
    """Little-endian PCM16 bytes (an even number) as an array of ints."""
    samples = array("h")
    samples.frombytes(pcm)
    if sys.byteorder == "big":
        samples.byteswap()
    return samples


def bytes_of(samples: array[int]) -> bytes:
    """An array of PCM16 samples as little-endian bytes."""
    if sys.byteorder == "big":
        samples = array("h", samples)
        samples.byteswap()
    return samples.tobytes()


def duration_s(byte_count: int, rate: int) -> float:
    """How long `byte_count` bytes of PCM16 mono last at `rate` Hz."""
    return byte_count / (SAMPLE_WIDTH * rate)


def rms(pcm: bytes) -> float:
    """The root mean square level of PCM16 bytes, 0 for silence, up to 32767."""
    samples = samples_of(pcm[: len(pcm) & ~1])
    if not samples:
        return 0.0
    return math.sqrt(sum(s * s for s in samples) / len(samples))


class Resampler:
    """Converts a stream of PCM16 mono chunks from one rate to another.

    Chunks may split a sample (an odd byte count): the odd byte waits for the next
    chunk. Output sample n lies at input position n * source / target, computed in
    integers; the last input sample is carried over so the next chunk interpolates
    from it.
    """

    def __init__(self, source_rate: int, target_rate: int) -> None:
        if source_rate <= 0 or target_rate <= 0:
            raise ValueError("sample rates must be positive")
        common = gcd(source_rate, target_rate)
        self._step = source_rate // common  # input advance per output sample, in 1/_den
        self._den = target_rate // common
        self._same = source_rate == target_rate
        self._position = 0  # of the next output sample, in 1/_den from _previous
        self._previous: int | None = None
        self._odd = b""

    def feed(self, pcm: bytes) -> bytes:
        """The output for `pcm`, as far as it can be told without the next chunk."""
        data = self._odd + pcm if self._odd else pcm
        whole = len(data) & ~1
        self._odd = data[whole:]
        if self._same or not whole:
            return data[:whole]
        samples = samples_of(data[:whole])
        if self._previous is not None:
            samples.insert(0, self._previous)
        step, den, position = self._step, self._den, self._position
        last = len(samples) - 1
        out = array("h")
        append = out.append
        while True:
            index, fraction = divmod(position, den)
            if index >= last:
                break
            left = samples[index]
            append(left + (samples[index + 1] - left) * fraction // den)
            position += step
        self._previous = samples[last]
        self._position = position - last * den
        return bytes_of(out)


async def resampled(
    chunks: AsyncGenerator[bytes, None], source_rate: int, target_rate: int
) -> AsyncGenerator[bytes, None]:
    """`chunks` at `target_rate`, every chunk an even number of bytes.

    Closing this generator closes `chunks` at once (a connection, a subprocess),
    rather than whenever the garbage collector gets to it."""
    resampler = Resampler(source_rate, target_rate)
    async with contextlib.aclosing(chunks):
        async for chunk in chunks:
            # A second of audio is some 10 ms of Python: off the event loop.
            out = await asyncio.to_thread(resampler.feed, chunk)
            if out:
                yield out


__all__ = ["SAMPLE_WIDTH", "Resampler", "bytes_of", "duration_s", "resampled", "rms", "samples_of"]
