"""Redaction before people: personal data replaced by typed placeholders.

Redaction is best-effort: patterns and checksums catch well-formed emails,
phone numbers, payment card numbers (Luhn), IBANs (mod-97) and IP addresses,
not names, addresses or anything written creatively ("jane at example dot
com"), and nothing inside images or audio. A stronger engine (a named-entity
recogniser such as Presidio) plugs in as another `Recogniser`.

Placeholders are numbered per task in order of first appearance, and the same
value gets the same placeholder (`[EMAIL_1]` ... `[EMAIL_1]`), so an operator
can still follow who is who. Recognisers run in a fixed order (emails first,
phone numbers last) over text already redacted by the earlier ones, so a card
number is never half-taken for a phone number.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol


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


class PatternRecogniser:
    """A regular expression, optionally confirmed by a check of each match."""

    def __init__(self, kind: str, placeholder: str, pattern: str, flags: int = 0) -> None:
        self.kind = kind
        self.placeholder = placeholder
        self._pattern = re.compile(pattern, flags)

    def valid(self, candidate: str) -> bool:
        return True

    def find(self, text: str) -> Iterator[Finding]:
        for match in self._pattern.finditer(text):
            if self.valid(match.group()):
                yield Finding(self.kind, match.start(), match.end())


def luhn_ok(digits: str) -> bool:
    """The Luhn checksum every payment card number satisfies."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 1:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def iban_ok(compact: str) -> bool:
    """ISO 13616: move the first four characters to the end, letters to numbers, mod 97 = 1."""
    rearranged = compact[4:] + compact[:4]
    return int("".join(str(int(char, 36)) for char in rearranged)) % 97 == 1


class CardRecogniser(PatternRecogniser):
    def __init__(self) -> None:
        # 13 to 19 digits, optionally grouped by single spaces or dashes.
        super().__init__("payment_card", "CARD", r"(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d])")

    def valid(self, candidate: str) -> bool:
        return luhn_ok(re.sub(r"\D", "", candidate))


class IbanRecogniser:
    """Country code, check digits and up to 30 letters or digits, grouped or not.

    The pattern may run past the IBAN into a following group of characters, so
    the longest prefix that passes the mod-97 check is taken.
    """

    kind = "iban"
    placeholder = "IBAN"
    _pattern = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}\b")

    def find(self, text: str) -> Iterator[Finding]:
        for match in self._pattern.finditer(text):
            positions = [match.start() + i for i, c in enumerate(match.group()) if c != " "]
            compact = match.group().replace(" ", "")
            for length in range(len(compact), 14, -1):
                if iban_ok(compact[:length]):
                    yield Finding(self.kind, match.start(), positions[length - 1] + 1)
                    break


class IpRecogniser:
    """IPv4 and IPv6 addresses, confirmed by the standard library's parser."""

    kind = "ip_address"
    placeholder = "IP"
    _v4 = re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?![\w.]*\d)")
    _v6 = re.compile(r"(?<![\w:])[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?:%\w+)?(?![\w:])")

    def find(self, text: str) -> Iterator[Finding]:
        for pattern in (self._v4, self._v6):
            for match in pattern.finditer(text):
                candidate = match.group()
                groups = [g for g in candidate.split("%")[0].split(":") if g]
                if pattern is self._v6 and len(groups) < 3:
                    continue  # "a::b" or a clock time is not worth the false alarm
                try:
                    ipaddress.ip_address(candidate.split("%")[0])
                except ValueError:
                    continue
                yield Finding(self.kind, match.start(), match.end())


class PhoneRecogniser(PatternRecogniser):
    def __init__(self) -> None:
        # An optional +, then 9 to 15 digits (E.164's maximum) in groups separated by
        # spaces, dots, dashes or parentheses. Nine digits keep dates and times out.
        super().__init__(
            "phone",
            "PHONE",
            r"(?<![\w+])(?:\+|00)?\(?\d[\d \t().-]{7,20}\d(?![\w])",
        )

    def valid(self, candidate: str) -> bool:
        digits = re.sub(r"\D", "", candidate)
        return 9 <= len(digits) <= 15


EMAIL = PatternRecogniser(
    "email",
    "EMAIL",
    r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}",
)

# The order recognisers run in: the most specific first.
BUILT_IN: dict[str, Recogniser] = {
    "email": EMAIL,
    "iban": IbanRecogniser(),
    "payment_card": CardRecogniser(),
    "ip_address": IpRecogniser(),
    "phone": PhoneRecogniser(),
}


class Redactor:
    """Replaces what its recognisers find with numbered, typed placeholders."""

    def __init__(self, recognisers: Sequence[Recogniser]) -> None:
        self.recognisers = list(recognisers)

    @classmethod
    def for_kinds(cls, kinds: Sequence[str], extra: Sequence[Recogniser] = ()) -> Redactor:
        """The built-in recognisers for `kinds` (in their fixed order), then `extra`."""
        return cls([r for kind, r in BUILT_IN.items() if kind in kinds] + list(extra))

    def session(self) -> RedactionSession:
        """A numbering scope: one task's messages share placeholders."""
        return RedactionSession(self.recognisers)


_PLACEHOLDER = re.compile(r"\[([A-Z]+)_(\d+)\]")


class RedactionSession:
    def __init__(self, recognisers: Sequence[Recogniser]) -> None:
        self._recognisers = recognisers
        self._placeholders: dict[tuple[str, str], str] = {}
        self._last_number: dict[str, int] = {}
        self.counts: dict[str, int] = {}

    def redact(self, text: str) -> str:
        # Text redacted before (a stored conversation woz continues) already holds
        # placeholders: new values are numbered after them, never onto them.
        for match in _PLACEHOLDER.finditer(text):
            name, number = match.group(1), int(match.group(2))
            self._last_number[name] = max(self._last_number.get(name, 0), number)
        for recogniser in self._recognisers:
            findings = sorted(recogniser.find(text), key=lambda f: f.start)
            if not findings:
                continue
            out: list[str] = []
            cursor = 0
            for finding in findings:
                if finding.start < cursor:
                    continue  # overlaps a finding already replaced
                out.append(text[cursor : finding.start])
                out.append(self._placeholder(recogniser, text[finding.start : finding.end]))
                cursor = finding.end
            out.append(text[cursor:])
            text = "".join(out)
        return text

    def _placeholder(self, recogniser: Recogniser, value: str) -> str:
        """The value's placeholder; `counts` counts occurrences replaced, by kind."""
        self.counts[recogniser.kind] = self.counts.get(recogniser.kind, 0) + 1
        key = (recogniser.kind, value)
        if key not in self._placeholders:
            number = self._last_number.get(recogniser.placeholder, 0) + 1
            self._last_number[recogniser.placeholder] = number
            self._placeholders[key] = f"[{recogniser.placeholder}_{number}]"
        return self._placeholders[key]
