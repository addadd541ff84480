"""A typed transcript in the shapes the transcription API returns: segments, SRT, WebVTT.

A human types the words, not their timing. So a transcript is cut into sentences
(segments) or words, and the audio's duration is shared among them in proportion
to their length in characters: a plausible timeline, not a measured one. When the
duration is unknown (0.0, for anything but WAV) every timestamp is 0.0.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from typing import Any

_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")


def sentences(text: str) -> list[str]:
    """`text` cut after each `.`, `!`, `?` or `…` that is followed by white space."""
    return [piece for piece in _SENTENCE_END.split(text.strip()) if piece]


def spread(pieces: list[str], duration: float) -> list[tuple[float, float]]:
    """(start, end) of each piece when `duration` is shared in proportion to their lengths."""
    total = sum(len(piece) for piece in pieces)
    if total == 0:
        return [(0.0, 0.0) for _ in pieces]
    spans: list[tuple[float, float]] = []
    done = 0
    for piece in pieces:
        start = duration * done / total
        done += len(piece)
        spans.append((round(start, 3), round(duration * done / total, 3)))
    return spans


def segments(text: str, duration: float) -> list[dict[str, Any]]:
    """Whisper-style segments, one per sentence, with neutral confidence figures.

    Like Whisper's, each segment's text starts with a space. There are no model token
    ids to report, so `tokens` is empty.
    """
    pieces = sentences(text)
    return [
        {
            "id": index,
            "seek": int(start * 100),  # Whisper counts seek in 10 ms frames
            "start": start,
            "end": end,
            "text": " " + piece,
            "tokens": [],
            "temperature": 0.0,
            "avg_logprob": 0.0,
            "compression_ratio": 1.0,
            "no_speech_prob": 0.0,
        }
        for index, (piece, (start, end)) in enumerate(
            zip(pieces, spread(pieces, duration), strict=True)
        )
    ]


def words(text: str, duration: float) -> list[dict[str, Any]]:
    """Each word with a start and an end (`timestamp_granularities[]=word`)."""
    pieces = text.split()
    return [
        {"word": piece, "start": start, "end": end}
        for piece, (start, end) in zip(pieces, spread(pieces, duration), strict=True)
    ]


def verbose(
    text: str, duration: float, language: str, granularities: Collection[str]
) -> dict[str, Any]:
    """The `verbose_json` body: segments unless only words were asked for, words if asked."""
    body: dict[str, Any] = {
        "task": "transcribe",
        "language": language,
        "duration": duration,
        "text": text,
    }
    if "segment" in granularities or not granularities:
        body["segments"] = segments(text, duration)
    if "word" in granularities:
        body["words"] = words(text, duration)
    return body


def _timestamp(seconds: float, separator: str) -> str:
    millis = round(seconds * 1000)
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs, millis = divmod(millis, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{separator}{millis:03d}"


def srt(text: str, duration: float) -> str:
    """SubRip subtitles: numbered cues, `HH:MM:SS,mmm` times, a blank line after each."""
    pieces = sentences(text)
    cues = [
        f"{number}\n{_timestamp(start, ',')} --> {_timestamp(end, ',')}\n{piece}\n"
        for number, (piece, (start, end)) in enumerate(
            zip(pieces, spread(pieces, duration), strict=True), start=1
        )
    ]
    return "\n".join(cues) + ("\n" if cues else "")


def vtt(text: str, duration: float) -> str:
    """WebVTT subtitles: the `WEBVTT` header, then cues with `HH:MM:SS.mmm` times."""
    pieces = sentences(text)
    cues = [
        f"{_timestamp(start, '.')} --> {_timestamp(end, '.')}\n{piece}\n"
        for piece, (start, end) in zip(pieces, spread(pieces, duration), strict=True)
    ]
    return "WEBVTT\n\n" + "\n".join(cues)
