"""Cutting text into sentences for speech: known cases, and properties over any text."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from woz.media.speech.sentences import (
    MAX_SENTENCE_CHARS,
    SentenceBuffer,
    finished_sentences,
    split_sentences,
)


@pytest.mark.parametrize(
    ("text", "sentences"),
    [
        ("Hello there. How are you?", ["Hello there.", "How are you?"]),
        ("Wow! Really?! Yes…  Fine.", ["Wow!", "Really?!", "Yes…", "Fine."]),
        ("It costs $3.50 at example.com today.", ["It costs $3.50 at example.com today."]),
        ("Ask Dr. Smith, e.g. at 9 a.m. Tomorrow.", ["Ask Dr. Smith, e.g. at 9 a.m. Tomorrow."]),
        ("J. R. R. Tolkien wrote it. I did not.", ["J. R. R. Tolkien wrote it.", "I did not."]),
        ("So did I. Then we left.", ["So did I.", "Then we left."]),
        ("One item. then lower case.", ["One item. then lower case."]),
        ('He said "Stop." Then he left.', ['He said "Stop."', "Then he left."]),
        ("A list:\n- apples\n- pears", ["A list:", "- apples", "- pears"]),
        ("你好。我很好！谢谢", ["你好。", "我很好！", "谢谢"]),
        ("... 🙂 !", []),
        ("", []),
    ],
)
def test_known_texts_are_cut_where_a_reader_would_pause(text: str, sentences: list[str]) -> None:
    """Full stops end sentences; decimals, domains, titles, initials and Latin do not."""
    assert split_sentences(text) == sentences


def test_a_sentence_is_not_over_until_the_next_word_shows_it() -> None:
    """While text is being typed, a trailing full stop may still be `Dr.`: it waits."""
    assert finished_sentences("Hello there. I met Dr.") == (["Hello there."], 12)
    assert finished_sentences("Hello there. I met Dr. ") == (["Hello there."], 12)
    assert finished_sentences("Hello there. I met Dr. Who") == (["Hello there."], 12)
    assert finished_sentences("Hello there. I met him. Then") == (
        ["Hello there.", "I met him."],
        23,
    )


def test_an_endless_sentence_is_cut_at_a_comma_or_a_space() -> None:
    """A sentence past the limit is cut at its last comma, so no synthesis waits on it."""
    text = ", ".join(["a few words here"] * 40) + "."
    sentences = split_sentences(text)
    assert len(sentences) > 1 and all(len(s) <= MAX_SENTENCE_CHARS for s in sentences)
    assert all(s.endswith((",", ".")) for s in sentences)


def test_the_buffer_hands_out_each_sentence_once_it_is_over() -> None:
    """Fed word by word, the buffer gives each sentence when the next word shows it is over."""
    buffer = SentenceBuffer()
    words = ["Hi", "there.", "Dr.", "Who", "is", "here.", "Bye"]
    out = [buffer.feed(word + " ") for word in words]
    assert out == [[], [], ["Hi there."], [], [], [], ["Dr. Who is here."]]
    assert buffer.flush() == ["Bye"]


_TEXT = st.lists(
    st.sampled_from([*"ab Z.!?…,\n\"')3。 ", "Dr", "e.g", "J", "word"]), max_size=200
).map("".join)


@given(_TEXT)
def test_no_letter_or_digit_is_lost_or_reordered(text: str) -> None:
    """Whatever the text, the sentences hold every letter and digit of it, in order."""
    sentences = split_sentences(text)
    assert [c for c in text if c.isalnum()] == [c for s in sentences for c in s if c.isalnum()]
    assert all(s == s.strip() and s and len(s) <= MAX_SENTENCE_CHARS for s in sentences)


@given(_TEXT, st.lists(st.integers(min_value=0, max_value=400), max_size=20))
def test_feeding_in_pieces_cuts_like_the_whole_text(text: str, cuts: list[int]) -> None:
    """However the text arrives (keystrokes, stream chunks), the sentences are the same."""
    buffer = SentenceBuffer()
    sentences: list[str] = []
    previous = 0
    for cut in sorted(min(c, len(text)) for c in cuts):
        sentences += buffer.feed(text[previous:cut])
        previous = cut
    sentences += buffer.feed(text[previous:])
    sentences += buffer.flush()
    assert sentences == split_sentences(text)
