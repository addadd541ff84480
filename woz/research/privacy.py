"""Redaction before people: personal data replaced by typed placeholders.

Redaction is best-effort: the recognisers (`woz.research.addresses`,
`account_numbers`, `phones`) catch well-formed emails, phone numbers written as
phone numbers are, payment card numbers (Luhn), IBANs (mod-97) and IP addresses,
not names, addresses or anything written creatively ("jane at example dot
com"), and nothing inside images or audio. A stronger engine (a named-entity
recogniser such as Presidio) plugs in as another `Recogniser`.

Placeholders are numbered per task in order of first appearance, and the same
value gets the same placeholder (`[EMAIL_1]` ... `[EMAIL_1]`), so an operator
can still follow who is who. Recognisers run in a fixed order (emails first,
phone numbers last) over text already redacted by the earlier ones, so a card
number is never half-taken for a phone number. Each recogniser takes time
linear in its text, whatever the text (`woz.research.scan`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from woz.research.account_numbers import CardRecogniser, IbanRecogniser, iban_ok, luhn_ok
from woz.research.addresses import EmailRecogniser, IpRecogniser
from woz.research.phones import PhoneRecogniser
from woz.research.scan import Finding, Recogniser

__all__ = [
    "BUILT_IN",
    "Finding",
    "Recogniser",
    "RedactionSession",
    "Redactor",
    "iban_ok",
    "luhn_ok",
]

# The order recognisers run in: the most specific first.
BUILT_IN: dict[str, Recogniser] = {
    "email": EmailRecogniser(),
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


_PLACEHOLDER = re.compile(r"\[([A-Z]{1,32})_([0-9]{1,9})\]")


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
