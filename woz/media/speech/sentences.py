"""Cutting text into sentences, so speech can start after the first one.

One pass over the text, looking a bounded distance around each full stop, so
the work is linear in the input however hostile. A sentence ends after `.`,
`!`, `?` or `…` (with any closing quotes or brackets) followed by white space, and
at every line break. Not after a decimal point or a dot inside a word (`3.50`,
`example.com`: no space follows), a title or Latin abbreviation (`Dr.`, `e.g.`,
`vs.`), an initial (`J. Smith`), nor a full stop followed by a lower-case word.
Chinese and Japanese full stops (`。！？`) end a sentence with or without a space.
A sentence that runs past `MAX_SENTENCE_CHARS` is cut at its last comma or space
before that, so no synthesis waits on an endless sentence. Pieces with nothing to
say (no letter or digit: "...", emoji) are dropped.

`split_sentences` cuts a finished text; `SentenceBuffer` takes text as it is
typed and hands out each sentence once it is certainly over.
"""

from __future__ import annotations

MAX_SENTENCE_CHARS = 250
_TERMINATORS = frozenset(".!?…。！？")
_WIDE_TERMINATORS = frozenset("。！？")  # end a sentence with no space after them
_CLOSERS = frozenset("\"')]}»”’")
_SPACE = frozenset(" \t\r\f\v\u00a0\u3000")
_SOFT_BREAKS = (", ", "; ", ": ", " - ", " – ", " — ", " ")
_LOOKBEHIND = 12  # longest abbreviation checked, in characters
# Abbreviations a full stop follows inside a sentence (lower case, without the last dot).
_ABBREVIATIONS = frozenset(
    {
        "mr",
        "mrs",
        "ms",
        "dr",
        "prof",
        "sr",
        "jr",
        "st",
        "mt",
        "vs",
        "cf",
        "e.g",
        "i.e",
        "approx",
        "fig",
        "dept",
        "inc",
        "ltd",
        "ave",
        "u.s",
        "a.m",
        "p.m",
    }
)


def split_sentences(text: str) -> list[str]:
    """Every sentence of a finished `text`, stripped, in order."""
    sentences, _ = _scan(text, final=True)
    return sentences


def finished_sentences(text: str) -> tuple[list[str], int]:
    """The sentences of `text` that are certainly over, and where the unfinished rest
    begins: text still being typed may continue the last sentence."""
    return _scan(text, final=False)


class SentenceBuffer:
    """Text arriving piece by piece (a wizard typing, a model streaming), out as sentences.

    Only the unfinished sentence is kept and rescanned, and it is cut once it grows
    past `MAX_SENTENCE_CHARS`, so the work stays linear in the text fed.
    """

    def __init__(self) -> None:
        self._pending = ""

    def feed(self, piece: str) -> list[str]:
        """The sentences `piece` finishes."""
        self._pending += piece
        sentences, rest = _scan(self._pending, final=False)
        self._pending = self._pending[rest:]
        return sentences

    def flush(self) -> list[str]:
        """The text is complete: whatever is left, as sentences."""
        sentences = split_sentences(self._pending)
        self._pending = ""
        return sentences


def _scan(text: str, *, final: bool) -> tuple[list[str], int]:
    sentences: list[str] = []
    start = 0
    i = 0
    n = len(text)
    while i < n:
        char = text[i]
        if char == "\n":
            _emit(sentences, text[start:i])
            start = i = i + 1
            continue
        if char in _TERMINATORS:
            end, after, decided = _sentence_end(text, i, final)
            if not decided:
                return sentences, start
            if end is not None:
                _emit(sentences, text[start:end])
                start = end
            i = after
        else:
            i += 1
        if i - start >= MAX_SENTENCE_CHARS:
            cut = _soft_break(text, start, i)
            _emit(sentences, text[start:cut])
            start = cut
    if final:
        _emit(sentences, text[start:])
        start = n
    return sentences, start


def _sentence_end(text: str, i: int, final: bool) -> tuple[int | None, int, bool]:
    """At the terminator `text[i]`: where the sentence ends (None: it goes on), where
    scanning resumes, and whether that could be decided from the text so far."""
    n = len(text)
    j = i
    while j < n and text[j] in _TERMINATORS:
        j += 1
    periods_only = text[i:j] == "."
    wide = text[j - 1] in _WIDE_TERMINATORS
    while j < n and text[j] in _CLOSERS:
        j += 1
    k = j
    while k < n and text[k] in _SPACE:
        k += 1
    if k == n:  # the text stops here: a sentence end only if nothing more will come
        return (j if final else None), k, final
    if k == j and not wide:
        return None, j, True  # "3.50", "example.com", "?!x": inside a word
    follower = text[k]
    if follower != "\n" and periods_only and (follower.islower() or _abbreviated(text, i)):
        return None, k, True
    return j, k, True


def _abbreviated(text: str, dot: int) -> bool:
    """Whether the word before the full stop at `dot` is an abbreviation or an initial."""
    begin = dot
    limit = max(0, dot - _LOOKBEHIND)
    while begin > limit and (text[begin - 1].isalpha() or text[begin - 1] == "."):
        begin -= 1
    word = text[begin:dot]
    if begin > 0 and begin == limit and text[begin - 1].isalpha():
        return False  # a longer word than any abbreviation
    if len(word) == 1 and word.isupper() and word != "I":
        return True  # an initial: "J. Smith"
    return word.lower() in _ABBREVIATIONS


def _soft_break(text: str, start: int, end: int) -> int:
    """Where to cut an over-long sentence in `text[start:end]`: after its last comma,
    semicolon or space in the second half, else at `end`."""
    floor = start + (end - start) // 2
    for mark in _SOFT_BREAKS:
        found = text.rfind(mark, floor, end)
        if found != -1:
            return found + len(mark)
    return end


def _emit(sentences: list[str], piece: str) -> None:
    sentence = piece.strip()
    if any(char.isalnum() for char in sentence):
        sentences.append(sentence)


__all__ = ["MAX_SENTENCE_CHARS", "SentenceBuffer", "finished_sentences", "split_sentences"]
