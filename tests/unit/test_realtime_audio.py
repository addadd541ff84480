"""The Realtime API's audio: G.711 as the ITU reference computes it, and the voice detector."""

from __future__ import annotations

import math
import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from woz.api.realtime.audio import (
    BadAudio,
    Decoder,
    Encoder,
    _alaw_decode,
    _alaw_encode,
    _ulaw_decode,
    _ulaw_encode,
    b64decode,
)
from woz.api.realtime.events import EventError, parse_client_event
from woz.api.realtime.vad import SpeechStarted, SpeechStopped, Vad

RATE = 24_000


def tone(ms: int, amplitude: int = 8000) -> bytes:
    count = RATE * ms // 1000
    return struct.pack(
        f"<{count}h",
        *(int(amplitude * math.sin(2 * math.pi * 200 * i / RATE)) for i in range(count)),
    )


def silence(ms: int) -> bytes:
    return b"\0\0" * (RATE * ms // 1000)


@pytest.mark.parametrize(
    ("code", "ulaw", "alaw"),
    # What Python's audioop (the ITU reference's algorithm) gave before its removal.
    [(0xFF, 0, 848), (0x80, 32124, 5504), (0x00, -32124, -5504), (0xD5, 716, 8), (0x55, -716, -8)],
)
def test_g711_decoding_matches_the_reference(code: int, ulaw: int, alaw: int) -> None:
    """Known code points of both laws decode to the reference's samples."""
    assert _ulaw_decode(code) == ulaw
    assert _alaw_decode(code) == alaw


@given(st.integers(-32768, 32767))
def test_g711_round_trip_stays_within_a_step(sample: int) -> None:
    """Encoding then decoding lands within the law's quantisation step of the sample."""
    step = max(16, abs(sample) // 16)
    assert abs(_ulaw_decode(_ulaw_encode(sample)) - sample) <= step * 2
    assert abs(_alaw_decode(_alaw_encode(sample)) - sample) <= step * 2


def test_pcmu_goes_through_8_khz_and_back() -> None:
    """24 kHz in, a third as many G.711 bytes out, and 24 kHz again on decoding."""
    pcm = tone(300)
    wire = Encoder("audio/pcmu").feed(pcm)
    assert abs(len(wire) - len(pcm) // 6) <= 2
    back = Decoder("audio/pcmu").feed(wire)
    assert abs(len(back) - len(pcm)) <= 12


def test_pcm_keeps_an_odd_byte_for_the_next_append() -> None:
    decoder = Decoder("audio/pcm")
    assert decoder.feed(b"\x01\x02\x03") == b"\x01\x02"
    assert decoder.feed(b"\x04") == b"\x03\x04"


def test_bad_base64_is_refused() -> None:
    with pytest.raises(BadAudio):
        b64decode("%%%")


def test_vad_finds_an_utterance_between_silences() -> None:
    """Speech starts where the signal does and stops after the silence duration."""
    vad = Vad(threshold=0.5, silence_duration_ms=500)
    events = vad.feed(silence(400) + tone(600) + silence(700))
    assert events == [SpeechStarted(400), SpeechStopped(1000, 1500)]
    assert not vad.speaking


def test_vad_ignores_quiet_noise_and_short_clicks() -> None:
    """Sound below the threshold, or a single 20 ms frame, is not speech."""
    vad = Vad(threshold=0.5, silence_duration_ms=200)
    assert vad.feed(tone(500, amplitude=300) + silence(100) + tone(20) + silence(300)) == []


def test_vad_events_split_across_appends() -> None:
    """Appends of any size give the same events as one."""
    audio = silence(200) + tone(400) + silence(600)
    vad = Vad(threshold=0.5, silence_duration_ms=500)
    found = []
    for start in range(0, len(audio), 333):
        found += vad.feed(audio[start : start + 333])
    assert found == Vad(0.5, 500).feed(audio)


@pytest.mark.parametrize(
    ("raw", "code", "param"),
    [
        ("[]", "invalid_event", None),
        ('{"type": "input_audio_buffer.append"}', "missing_required_parameter", "audio"),
        (
            '{"type": "session.update", "session": {"output_modalities": ["video"]}}',
            "invalid_value",
            "session.output_modalities.0",
        ),
        (
            '{"type": "response.create", "response": {"output_modalities": ["text", "audio"]}}',
            "invalid_value",
            "response.output_modalities",
        ),
    ],
)
def test_bad_events_name_the_field(raw: str, code: str, param: str | None) -> None:
    with pytest.raises(EventError) as refused:
        parse_client_event(raw)
    assert refused.value.code == code and refused.value.param == param
