"""What recognisers of personal data are made of: findings, and a text read at a metered cost.

Redaction runs on whatever a participant or an app sends, so every recogniser
must take time linear in the length of its text, whatever the text: a
megabyte without a space, of digits, of `a@a@a@...`. Two rules keep it so:

- The regular expressions a recogniser hands to `Scan.finditer` are linear by
  construction: every repeat is bounded and none is nested in another, so the
  engine does a bounded amount of work at each position. One exception: the
  pattern may end with an unbounded run of one character class (`[0-9]+`),
  which the engine takes whole and never backtracks into.
- Everything else a recogniser does, it does to characters it reads through a
  `Scan`, which counts them in `examined`. Tests hold `examined` to a small
  multiple of the text's length on pathological inputs: a recogniser that
  rescans from every position (as an unbounded pattern anchored nowhere does)
  or loops over ever longer prefixes shows up as a count that grows faster.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from typing import NamedTuple, Protocol


@dataclass(frozen=True)
class Finding:
    """A piece of personal data: its kind and where it is in the text."""

    kind: str
    start: int
    end: int


class Recogniser(Protocol):
    """Finds one kind of personal data; `placeholder` names it, e.g. `EMAIL`."""

    kind: str
    placeholder: str

    def find(self, text: str) -> Iterator[Finding]: ...


class Scan:
    """A text being searched, and how many of its characters were examined so far."""

    __slots__ = ("examined", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self.examined = 0

    def finditer(
        self, pattern: re.Pattern[str], pos: int = 0, endpos: int | None = None
    ) -> Iterator[re.Match[str]]:
        """The matches of a linear pattern (see the module's docstring) in the text, or
        between `pos` and `endpos`.

        Counts each position once and each character of the matches once more (they
        do not overlap) as their caller reads them.
        """
        end = len(self.text) if endpos is None else endpos
        self.examined += 2 * (end - pos)
        return pattern.finditer(self.text, pos, end)

    def match(self, pattern: re.Pattern[str], pos: int, endpos: int) -> re.Match[str] | None:
        """A run of a character class (`[A-Z0-9 ]{0,60}`) starting at `pos`, before `endpos`.

        Counts the characters matched and the one that ended the run.
        """
        match = pattern.match(self.text, pos, endpos)
        self.examined += (match.end() - pos if match else 0) + 1
        return match

    def read(self, start: int, end: int) -> str:
        """`text[start:end]`, for a check in Python; counted."""
        start = max(start, 0)
        self.examined += max(end - start, 0)
        return self.text[start:end]

    def recount(self, count: int) -> None:
        """Count `count` characters already read once more: a check that goes over them."""
        self.examined += count

    def char(self, index: int) -> str:
        """The character at `index`, or "" outside the text; counted."""
        self.examined += 1
        return self.text[index] if 0 <= index < len(self.text) else ""


class ScanningRecogniser(ABC):
    """A built-in recogniser: `find` reads its text through a `Scan`."""

    kind: str
    placeholder: str

    def find(self, text: str) -> Iterator[Finding]:
        return self.scan(Scan(text))

    @abstractmethod
    def scan(self, scan: Scan) -> Iterator[Finding]:
        """The findings in `scan.text`, in order, reading it only through `scan`."""


# A run of digits, and the up to three other characters right before it.
DIGITS_AFTER_GAP = re.compile(r"([^0-9]{0,3})[0-9]+")


class DigitGroup(NamedTuple):
    """A run of ASCII digits, and the text since the previous run when that is short."""

    start: int
    end: int
    gap: str | None  # None: no earlier run, or more than three characters away


def digit_groups(scan: Scan, regions: re.Pattern[str]) -> Iterator[DigitGroup]:
    """Each run of digits in the text's `regions`, in order: what numbers (cards, phones)
    are made of.

    `regions` is a linear pattern matching where a number may be (a run of digits and
    separators long enough): most text has few, and only they are read group by group.
    A group's gap is None at the start of a region.
    """
    for region in scan.finditer(regions):
        previous_end = -1
        for match in scan.finditer(DIGITS_AFTER_GAP, region.start(), region.end()):
            gap_start, end = match.span()
            start = match.end(1)
            # A gap not starting at the previous run is the end of a longer one.
            yield DigitGroup(start, end, match.group(1) if gap_start == previous_end else None)
            previous_end = end
