"""Payment card numbers (Luhn) and IBANs (mod-97): numbers whose checksum decides.

Both are found in time linear in the text (see `woz.research.scan`): a card is
looked for only among at most 19 digits from each group of four or more, and
an IBAN is checked once, at the length its country's registry entry gives.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterator

from woz.research.scan import DigitGroup, Finding, Scan, ScanningRecogniser, digit_groups

_DOUBLED = str.maketrans("0123456789", "0246813579")  # Luhn's doubling, digits summed


def luhn_ok(digits: str) -> bool:
    """The Luhn checksum every payment card number satisfies."""
    return (_digit_sum(digits[-1::-2]) + _digit_sum(digits[-2::-2].translate(_DOUBLED))) % 10 == 0


def _digit_sum(digits: str) -> int:
    return sum(map(int, digits))


MIN_CARD_DIGITS = 13
MAX_CARD_DIGITS = 19
CARD_SEPARATORS = (" ", "-")
# Where a card may be: a digit and at least 12 more digits, spaces and dashes.
CARD_REGIONS = re.compile(rf"[0-9][0-9 -]{{{MIN_CARD_DIGITS - 1},}}")
_SEPARATORS = re.compile(r"[ -]")


class CardRecogniser(ScanningRecogniser):
    """13 to 19 digits passing the Luhn check, not starting with 0, whole or in groups
    separated by single spaces or dashes, the first group of four or more digits
    (`4111 1111 1111 1111`, `3782-822463-10005`). Among the groups of a longer number
    (a card followed by its expiry date), the longest prefix that passes is taken."""

    kind = "payment_card"
    placeholder = "CARD"

    def scan(self, scan: Scan) -> Iterator[Finding]:
        # The groups from the earliest one a card may still start at; each group is
        # settled once, looking at most MAX_CARD_DIGITS groups ahead.
        window: deque[DigitGroup] = deque()
        for group in digit_groups(scan, CARD_REGIONS):
            if window and group.gap not in CARD_SEPARATORS:
                while window:
                    yield from self._settle_first(scan, window)
            if not window and group.end - group.start < 4:
                continue  # too short to start a card, and there is none to continue
            window.append(group)
            if len(window) > MAX_CARD_DIGITS:
                yield from self._settle_first(scan, window)
        while window:
            yield from self._settle_first(scan, window)

    def _settle_first(self, scan: Scan, window: deque[DigitGroup]) -> Iterator[Finding]:
        """The card starting at the window's first group, if any; drops what it settled."""
        first = window[0]
        count = self._card_groups(scan, window)
        if count:
            yield Finding(self.kind, first.start, window[count - 1].end)
        for _ in range(max(count, 1)):
            window.popleft()

    @staticmethod
    def _card_groups(scan: Scan, window: deque[DigitGroup]) -> int:
        """How many of the window's groups make the longest card starting at its first."""
        first = window[0]
        # A card starts a number with a group of four or more digits, or such a group
        # after a space in a longer number; never after a dash (`INV-4111...`) or a
        # `+` (a phone), and never with a 0.
        if first.end - first.start < 4 or scan.char(first.start - 1) in ("-", "+"):
            return 0
        if scan.char(first.start) == "0":
            return 0
        # The number of digits up to the end of each group that may end a card.
        ends: list[tuple[int, int]] = []
        digits = 0
        for index, group in enumerate(window):
            digits += group.end - group.start
            if digits > MAX_CARD_DIGITS:
                break
            if digits >= MIN_CARD_DIGITS:
                ends.append((index + 1, digits))
        if not ends:
            return 0
        number = _SEPARATORS.sub("", scan.read(first.start, window[ends[-1][0] - 1].end))
        for count, length in reversed(ends):
            scan.recount(length)
            if luhn_ok(number[:length]):
                return count
        return 0


# ISO 13616 registry: each country's IBAN length.
IBAN_LENGTHS = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22,
    "BH": 22, "BI": 27, "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24,
    "DE": 22, "DJ": 27, "DK": 18, "DO": 28, "EE": 20, "EG": 29, "ES": 24, "FI": 18,
    "FK": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27,
    "GT": 28, "HN": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26,
    "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32, "LI": 21, "LT": 20,
    "LU": 20, "LV": 21, "LY": 25, "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MN": 20,
    "MR": 27, "MT": 31, "MU": 30, "NI": 28, "NL": 18, "NO": 15, "OM": 23, "PK": 24,
    "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "RU": 33, "SA": 24,
    "SC": 31, "SD": 18, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "SO": 23, "ST": 25,
    "SV": 28, "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20,
    "YE": 30,
}  # fmt: skip
MAX_IBAN = max(IBAN_LENGTHS.values())
_IBAN_DIGITS = str.maketrans({chr(ord("A") + i): str(10 + i) for i in range(26)})
# A country code and check digits, not inside a word; then the rest of it.
IBAN_START = re.compile(r"(?<!\w)[A-Z]{2}[0-9]{2}")
IBAN_REST = re.compile(rf"[A-Z0-9 ]{{1,{2 * (MAX_IBAN - 4)}}}")


def iban_ok(compact: str) -> bool:
    """ISO 13616: move the first four characters to the end, letters to numbers, mod 97 = 1."""
    rearranged = (compact[4:] + compact[:4]).upper()
    return rearranged.isalnum() and int(rearranged.translate(_IBAN_DIGITS)) % 97 == 1


class IbanRecogniser(ScanningRecogniser):
    """A country code, check digits and as many capital letters or digits as that
    country's IBANs have, whole or grouped by single spaces, passing the mod-97 check."""

    kind = "iban"
    placeholder = "IBAN"

    def scan(self, scan: Scan) -> Iterator[Finding]:
        floor = 0  # the end of the last IBAN found: none starts inside it
        for head in scan.finditer(IBAN_START):
            length = IBAN_LENGTHS.get(head.group()[:2])
            if length is None or head.start() < floor:
                continue
            body = _iban_body(scan, head.end(), length - 4)
            if body is not None and iban_ok(head.group() + body.replace(" ", "")):
                floor = head.end() + len(body)
                yield Finding(self.kind, head.start(), floor)


def _iban_body(scan: Scan, start: int, wanted: int) -> str | None:
    """The text from `start` holding `wanted` letters and digits, single spaces allowed
    between them, or None when there are fewer."""
    rest = scan.match(IBAN_REST, start, start + 2 * wanted)
    if rest is None:
        return None
    text = rest.group().split("  ", 1)[0]
    scan.recount(len(text))
    ends = [index + 1 for index, char in enumerate(text) if char != " "]
    return text[: ends[wanted - 1]] if len(ends) >= wanted else None
