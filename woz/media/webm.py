"""The length of a WebM (Matroska) recording, as browsers make them.

MediaRecorder writes WebM as it records, so the file states no length: the
Segment and its Clusters have unknown sizes and the Info element no Duration.
The length is then where the last block starts: its Cluster's timecode plus the
block's own offset, in the Segment's TimecodeScale. A file that does state a
Duration is taken at its word. Only element headers and block timecodes are read;
nothing is decoded.
"""

from __future__ import annotations

import struct
from pathlib import Path

# Element ids, with their length markers, as the Matroska specification writes them.
SEGMENT = 0x18538067
INFO = 0x1549A966
CLUSTER = 0x1F43B675
BLOCK_GROUP = 0xA0
TIMECODE_SCALE = 0x2AD7B1
DURATION = 0x4489
CLUSTER_TIMECODE = 0xE7
SIMPLE_BLOCK = 0xA3
BLOCK = 0xA1

# Entered rather than skipped: what is looked for lies inside them.
_CONTAINERS = {SEGMENT, INFO, CLUSTER, BLOCK_GROUP}
_DEFAULT_SCALE_NS = 1_000_000
_UNKNOWN = -1


def webm_duration(path: Path) -> float:
    """The length in seconds of a WebM file, or 0.0 when it cannot be told."""
    try:
        data = path.read_bytes()
    except OSError:
        return 0.0
    return round(_duration(data), 3)


def _duration(data: bytes) -> float:
    scale = _DEFAULT_SCALE_NS
    stated: float | None = None
    cluster_time = 0
    last_block = 0
    pos = 0
    while pos < len(data):
        header = _element(data, pos)
        if header is None:
            break  # truncated or not Matroska: what was read so far stands
        element_id, body, size = header
        if element_id in _CONTAINERS:
            pos = body
            continue
        if size == _UNKNOWN or body + size > len(data):
            break
        value = data[body : body + size]
        if element_id == TIMECODE_SCALE:
            scale = _uint(value) or _DEFAULT_SCALE_NS
        elif element_id == DURATION and size in (4, 8):
            stated = struct.unpack(">f" if size == 4 else ">d", value)[0]
        elif element_id == CLUSTER_TIMECODE:
            cluster_time = _uint(value)
        elif element_id in (SIMPLE_BLOCK, BLOCK):
            offset = _block_offset(value)
            if offset is not None:
                last_block = max(last_block, cluster_time + offset)
        pos = body + size
    ticks = stated if stated and stated > 0 else last_block
    return max(0.0, ticks * scale / 1e9)


def _element(data: bytes, pos: int) -> tuple[int, int, int] | None:
    """(id, where its body starts, body size or _UNKNOWN) of the element at `pos`."""
    id_length = _vint_length(data, pos, max_length=4)
    if id_length is None:
        return None
    element_id = int.from_bytes(data[pos : pos + id_length], "big")
    size_at = pos + id_length
    size_length = _vint_length(data, size_at, max_length=8)
    if size_length is None:
        return None
    raw = int.from_bytes(data[size_at : size_at + size_length], "big")
    marker = 1 << (7 * size_length)
    size = raw - marker
    if size == marker - 1:  # every value bit set: size unknown (still being written)
        size = _UNKNOWN
    return element_id, size_at + size_length, size


def _vint_length(data: bytes, pos: int, max_length: int) -> int | None:
    """How many bytes the variable-length integer at `pos` takes (its leading zeros + 1)."""
    if pos >= len(data) or data[pos] == 0:
        return None
    length = 8 - data[pos].bit_length() + 1
    if length > max_length or pos + length > len(data):
        return None
    return length


def _block_offset(block: bytes) -> int | None:
    """A block's timecode relative to its cluster: a signed 16-bit after the track number."""
    track_length = _vint_length(block, 0, max_length=8)
    if track_length is None or len(block) < track_length + 2:
        return None
    offset: int = struct.unpack(">h", block[track_length : track_length + 2])[0]
    return offset


def _uint(value: bytes) -> int:
    return int.from_bytes(value, "big")
