"""A typed transcript as segments, words, SRT and WebVTT, timed in proportion to length."""

from __future__ import annotations

from woz.api.openai import transcripts


def test_sentences_split_after_end_punctuation_only() -> None:
    """A decimal point or an abbreviation without a following space does not cut."""
    text = "It costs 3.50 euros. Really?  Yes!\nFine…  ok"
    assert transcripts.sentences(text) == ["It costs 3.50 euros.", "Really?", "Yes!", "Fine…", "ok"]


def test_spread_shares_the_duration_by_length() -> None:
    """Spans are contiguous, in proportion to length, and end at the duration."""
    assert transcripts.spread(["ab", "abcdef", "ab"], 10.0) == [(0.0, 2.0), (2.0, 8.0), (8.0, 10.0)]
    assert transcripts.spread(["", ""], 4.0) == [(0.0, 0.0), (0.0, 0.0)]


def test_srt_and_vtt_cues() -> None:
    """SRT numbers its cues with comma milliseconds; VTT has its header and dots."""
    text = "Uno. Dos."
    assert transcripts.srt(text, 3661.5) == (
        "1\n00:00:00,000 --> 00:30:30,750\nUno.\n\n2\n00:30:30,750 --> 01:01:01,500\nDos.\n\n"
    )
    assert transcripts.vtt(text, 0.0) == (
        "WEBVTT\n\n00:00:00.000 --> 00:00:00.000\nUno.\n\n00:00:00.000 --> 00:00:00.000\nDos.\n"
    )


def test_an_empty_transcript_has_no_cues_or_segments() -> None:
    """Silence transcribed as nothing gives empty subtitles and no segments."""
    assert transcripts.srt("", 2.0) == ""
    assert transcripts.vtt("  ", 2.0) == "WEBVTT\n\n"
    assert transcripts.verbose("", 2.0, "en", [])["segments"] == []


def test_verbose_gives_words_only_when_asked() -> None:
    """Segments by default; words with `word`; both when both are asked for."""
    assert "words" not in transcripts.verbose("Hi there.", 1.0, "en", [])
    only_words = transcripts.verbose("Hi there.", 1.0, "en", ["word"])
    assert "segments" not in only_words
    assert only_words["words"] == [
        {"word": "Hi", "start": 0.0, "end": 0.25},
        {"word": "there.", "start": 0.25, "end": 1.0},
    ]
