"""The length of WebM recordings: what browsers' MediaRecorder writes, and files that state it."""

from __future__ import annotations

import struct
from pathlib import Path

from woz.media.files import audio_duration
from woz.media.webm import webm_duration

# 1.5 s of a tone recorded by Chromium's MediaRecorder (audio/webm;codecs=opus): the
# Segment and Clusters have unknown sizes and Info has no Duration.
RECORDED = Path(__file__).parent / "data" / "recorded.webm"


def element(element_id: int, body: bytes) -> bytes:
    """An EBML element with a one-byte size (bodies under 127 bytes)."""
    width = (element_id.bit_length() + 7) // 8
    return element_id.to_bytes(width, "big") + bytes([0x80 | len(body)]) + body


def test_a_browser_recording_is_as_long_as_its_last_block(tmp_path: Path) -> None:
    # The recorder starts a little late and the last 20 ms frame begins before the end.
    assert 1.3 <= webm_duration(RECORDED) <= 1.5
    copy = tmp_path / "speech.webm"
    copy.write_bytes(RECORDED.read_bytes())
    assert audio_duration(copy) == webm_duration(RECORDED)


def test_a_cut_recording_counts_what_arrived(tmp_path: Path) -> None:
    data = RECORDED.read_bytes()
    half = tmp_path / "half.webm"
    half.write_bytes(data[: len(data) // 2])
    assert 0.3 < webm_duration(half) < webm_duration(RECORDED)


def test_a_stated_duration_wins_in_its_timecode_scale(tmp_path: Path) -> None:
    scale = element(0x2AD7B1, (500_000).to_bytes(3, "big"))  # TimecodeScale: 0.5 ms
    info = scale + element(0x4489, struct.pack(">d", 4000.0))  # Duration: 4000 ticks
    cluster = element(0xE7, bytes([10])) + element(0xA3, bytes([0x81, 0, 20, 0x80]))
    segment = element(0x1549A966, info) + element(0x1F43B675, cluster)
    path = tmp_path / "stated.webm"
    path.write_bytes(element(0x18538067, segment))
    assert webm_duration(path) == 2.0
    # Without the Duration, the last block: (10 + 20) ticks of 0.5 ms.
    path.write_bytes(element(0x18538067, element(0x1549A966, scale) + element(0x1F43B675, cluster)))
    assert webm_duration(path) == 0.015


def test_what_is_not_webm_has_no_length(tmp_path: Path) -> None:
    for name, content in (("junk.webm", b"not a recording"), ("empty.webm", b"")):
        path = tmp_path / name
        path.write_bytes(content)
        assert webm_duration(path) == 0.0
    assert webm_duration(tmp_path / "missing.webm") == 0.0
