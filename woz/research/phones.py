"""Phone numbers: a number written the way phone numbers are, not any long run of digits.

A number is a chain of digit groups joined by single separators: a space, a
dash, a dot, or parentheses around one group (`(555) 123-4567`,
`+44 (0)20 7946 0958`). A space after a dash or a dot ends a number that has
nine digits already, so `555-123-4567 24 hours` is a phone and a count, and
`020-123 4567` one phone. A chain is a phone when it is

- international: `+` or `00` and a country code, 8 to 15 digits in all
  (`+44 20 7946 0958`, `+4915112345678`, `0049 30 901820`; `00` needs a separator);
- national: two or more groups (separated, or an area code in parentheses) of 9
  to 12 digits, in groups of 2 to 5 digits (a leading `1` too, the last up to 8):
  `(555) 123-4567`, `020 7946 0958`, `06 12 34 56 78`, `555-123-4567`;

and it is not part of an identifier: not glued to letters or a joiner before
it (`INV-2024-000187`, `#555-123-4567`) or after it, not a date that starts
with a year and a month (`2025-11-0042`), not an amount or address grouped by
dots in threes (`1.234.567.890`, `192.168.10.42`). A phone followed by one
more group of one or two digits after a space (`020 7946 0958 24 hours`) is still
found, and so are phones of the same shape written one after the other with only a
space between them (`020 7946 0958 020 7946 0959`).

The chain is read once, group by group, and judged on at most 16 groups, so
the work is linear in the text (see `woz.research.scan`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

from woz.research.scan import (
    DigitGroup,
    Finding,
    Scan,
    ScanningRecogniser,
    digit_groups,
)

# What may join two groups: `)` closing the group before, one separator, `(` opening
# the next one.
JOINS = frozenset(
    close + separator + open_
    for close in ("", ")")
    for separator in ("", " ", ".", "-")
    for open_ in ("", "(")
) - {""}
MAX_GROUPS = 16  # 15 digits (E.164's maximum) and a `(0)`
MIN_NATIONAL, MAX_NATIONAL = 9, 12
MIN_DIGITS = 8  # the fewest a phone number has: `+` and 8 digits
# Where a phone may be: a `+`, `(` or digit, and at least 7 more digits and separators.
PHONE_REGIONS = re.compile(rf"[+(0-9][0-9 .()+-]{{{MIN_DIGITS - 1},}}")


class PhoneRecogniser(ScanningRecogniser):
    """Phone numbers written as the module describes: a chain of groups, judged whole."""

    kind = "phone"
    placeholder = "PHONE"

    def scan(self, scan: Scan) -> Iterator[Finding]:
        chain: list[DigitGroup] = []
        too_long = False
        joined_by: str | None = None  # how the chain's last group joined it
        digits = 0
        for group in digit_groups(scan, PHONE_REGIONS):
            gap = group.gap
            # A space after a dash or a dot ends a number already as long as a phone's.
            complete = gap == " " and joined_by in ("-", ".") and digits >= MIN_NATIONAL
            if gap in JOINS and not complete:
                joined_by = gap
                digits += group.end - group.start
                too_long = too_long or len(chain) == MAX_GROUPS
                if not too_long:
                    chain.append(group)
                continue
            if chain and not too_long and digits >= MIN_DIGITS:
                yield from self._judge(scan, chain)
            chain, too_long, joined_by = [group], False, None
            digits = group.end - group.start
        if chain and not too_long and digits >= MIN_DIGITS:
            yield from self._judge(scan, chain)

    def _judge(self, scan: Scan, chain: Sequence[DigitGroup]) -> Iterator[Finding]:
        span = _phone(scan, chain)
        last = chain[-1]
        if span is None and len(chain) >= 3 and last.gap == " " and last.end - last.start <= 2:
            span = _phone(scan, chain[:-1])  # a phone, and a count after it
        if span is not None:
            yield Finding(self.kind, *span)
            return
        yield from (Finding(self.kind, *span) for span in _same_shape_phones(scan, chain))


def _same_shape_phones(scan: Scan, chain: Sequence[DigitGroup]) -> list[tuple[int, int]]:
    """Several phones written one after the other with only a space between them
    (`020 7946 0958 020 7946 0959`): the chain split into 2 to 4 parts joined by a
    space, each a phone with the same groups as the others. Requiring the same shape
    keeps long tracking and account numbers (`9400 1000 0000 0000 0000 00`) whole,
    and so not taken for phones. At most 16 groups: bounded work per chain."""
    lengths = [group.end - group.start for group in chain]
    for parts in (2, 3, 4):
        size, rest = divmod(len(chain), parts)
        if rest or size < 2:
            continue
        starts = range(0, len(chain), size)
        if any(lengths[start : start + size] != lengths[:size] for start in starts):
            continue
        if any(chain[start].gap != " " for start in starts if start):
            continue
        spans = [_phone(scan, chain[start : start + size]) for start in starts]
        if all(span is not None for span in spans):
            return [span for span in spans if span is not None]
    return []


def _phone(scan: Scan, groups: Sequence[DigitGroup]) -> tuple[int, int] | None:
    """Where the phone number these groups make starts and ends, if they make one."""
    first = groups[0]
    gaps = [group.gap or "" for group in groups[1:]]
    opener = scan.char(first.start - 1)
    if opener == "(" and not (gaps and gaps[0].startswith(")")):
        opener = ""  # around the number (`(555-123-4567)`), not its area code
    start = first.start - 1 if opener in ("+", "(") else first.start
    end = groups[-1].end
    if not _parentheses_pair(opener == "(", gaps):
        return None
    if _glued_before(scan, start) or _glued_after(scan, end):
        return None
    lengths = [group.end - group.start for group in groups]
    digits = sum(lengths)
    head = scan.read(first.start, min(first.end, first.start + 5))
    if opener == "+":
        plausible = head[0] != "0" and 8 <= digits <= 15
    elif head.startswith("00") and len(groups) > 1:
        plausible = (
            3 <= lengths[0] <= 5
            and head[2] != "0"
            and 8 <= digits - 2 <= 15
            and not _amount_or_address(lengths, gaps)
        )
    else:
        plausible = _national(head, lengths, gaps)
    return (start, end) if plausible else None


def _national(head: str, lengths: Sequence[int], gaps: Sequence[str]) -> bool:
    if len(lengths) < 2 or not MIN_NATIONAL <= sum(lengths) <= MAX_NATIONAL:
        return False
    if not (2 <= lengths[0] <= 5 or head == "1") or not 2 <= lengths[-1] <= 8:
        return False
    if any(not 2 <= length <= 4 for length in lengths[1:-1]):
        return False
    if lengths[0] == 4 and head[:2] in ("19", "20") and gaps[0] in ("-", ".") and lengths[1] <= 2:
        return False  # a date: year, month, ...
    return not _amount_or_address(lengths, gaps)


def _amount_or_address(lengths: Sequence[int], gaps: Sequence[str]) -> bool:
    """Groups joined by dots in threes (`1.234.567`) or four short ones (`10.0.0.1`)."""
    dotted = all(gap == "." for gap in gaps)
    in_threes = lengths[0] <= 3 and all(length == 3 for length in lengths[1:])
    quad = len(lengths) == 4 and all(length <= 3 for length in lengths)
    return dotted and (in_threes or quad)


def _parentheses_pair(opens_first: bool, gaps: Sequence[str]) -> bool:
    """Each `(` encloses exactly one group, closed by the `)` right after it."""
    opened = opens_first
    for gap in gaps:
        if opened != gap.startswith(")"):
            return False
        opened = gap.endswith("(")
    return not opened


def _glued_after(scan: Scan, end: int) -> bool:
    """Whether the number goes on into a word, an identifier or a decimal after `end`."""
    after = scan.char(end)
    if after.isalnum() or after == "_":
        return True
    if after in ("-", "/"):
        return scan.char(end + 1).isalnum()
    return after in (".", ",") and scan.char(end + 1).isdigit()


def _glued_before(scan: Scan, start: int) -> bool:
    """Whether the text just before `start` makes it part of a word or an identifier.

    A letter, digit or `_` right before (`A12`, `_1`), or a joiner `-` `/` `.` right
    after one (`INV-2024`, `A/12`, `v.12`), or a `#` (`#1234`).
    """
    before = scan.char(start - 1)
    if before.isalnum() or before in ("_", "#"):
        return True
    return before in ("-", "/", ".") and scan.char(start - 2).isalnum()
