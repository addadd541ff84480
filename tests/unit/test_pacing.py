"""Pacing: model-like tokens that join back exactly, delivered on schedule."""

from __future__ import annotations

from woz.api.core.pacing import count_tokens, paced, split_tokens


def test_tokens_join_back_exactly() -> None:
    """Whatever the text, the pieces reassemble it byte for byte."""
    for text in ["", "Hello, world!", "  spaced\n\nlines ", "naïve café 東京 🎁", "a" * 13]:
        assert "".join(split_tokens(text)) == text


def test_tokens_look_like_a_models() -> None:
    """Words keep their leading space, punctuation stands apart, long words split in four."""
    assert split_tokens("Hi, wonderful") == ["Hi", ",", " wond", "erfu", "l"]
    assert count_tokens("Hi there") == 3


async def test_zero_rate_sends_everything_at_once() -> None:
    assert [p async for p in paced("one two three", 0, 0)] == ["one two three"]


async def test_paced_pieces_cover_the_text() -> None:
    pieces = [p async for p in paced("one two three four", 1000, 0)]
    assert "".join(pieces) == "one two three four"


def test_long_texts_count_the_same_when_counted_again() -> None:
    """Counts of long texts are remembered (prompts are resent every turn), never changed."""
    text = "A long message from earlier in the conversation, resent every turn. " * 20
    expected = len(split_tokens(text))
    assert count_tokens(text) == expected
    assert count_tokens(str(text)) == expected  # a new string object, as the next request has
    longer = text + "And one more sentence."
    assert count_tokens(longer) == len(split_tokens(longer)) > expected
