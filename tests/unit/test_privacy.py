"""Recognisers and redaction: checksums decide, placeholders are typed, stable and numbered."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from woz.research.privacy import BUILT_IN, Finding, Redactor, iban_ok, luhn_ok


def redact(text: str, kinds: list[str] | None = None) -> str:
    return Redactor.for_kinds(kinds or list(BUILT_IN)).session().redact(text)


def test_luhn_and_mod97_checks() -> None:
    """Only numbers that pass their checksum count as cards and IBANs."""
    assert luhn_ok("4111111111111111") and not luhn_ok("4111111111111112")
    assert iban_ok("DE89370400440532013000") and not iban_ok("DE89370400440532013001")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("write to jane@example.com today", "write to [EMAIL_1] today"),
        ("card 4111-1111-1111-1111, thanks", "card [CARD_1], thanks"),
        ("card 4111 1111 1111 1112, thanks", "card 4111 1111 1111 1112, thanks"),
        ("IBAN GB82 WEST 1234 5698 7654 32 please", "IBAN [IBAN_1] please"),
        ("IBAN GB82WEST12345698765433 please", "IBAN GB82WEST12345698765433 please"),
        ("from 10.0.0.7 and 999.1.2.3", "from [IP_1] and 999.1.2.3"),
        ("v6 2001:db8::1:2:3 ok", "v6 [IP_1] ok"),
        ("call +49 30 901820 or (555) 123-4567", "call [PHONE_1] or [PHONE_2]"),
    ],
)
def test_each_kind_is_found_and_typed(text: str, expected: str) -> None:
    """A value of each kind becomes its typed placeholder; near misses are left alone."""
    assert redact(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "on 2024-01-15 at 12:30:45",
        "version 1.2.3 of order 123456",
        "it costs 1,299.00 euros",
        "ratio 3:4:5",
    ],
)
def test_ordinary_numbers_are_not_personal_data(text: str) -> None:
    """Dates, times, versions, prices and short numbers stay as written."""
    assert redact(text) == text


def test_same_value_same_placeholder_and_counts() -> None:
    """One value keeps one placeholder across a task's messages; counts count occurrences."""
    session = Redactor.for_kinds(["email"]).session()
    first = session.redact("a@x.org and b@x.org")
    second = session.redact("again a@x.org")
    assert (first, second) == ("[EMAIL_1] and [EMAIL_2]", "again [EMAIL_1]")
    assert session.counts == {"email": 3}


def test_new_values_are_numbered_after_placeholders_already_in_the_text() -> None:
    """A conversation redacted before keeps its placeholders; a new email gets the next one."""
    session = Redactor.for_kinds(["email"]).session()
    assert session.redact("earlier: [EMAIL_1], [EMAIL_2]") == "earlier: [EMAIL_1], [EMAIL_2]"
    assert session.redact("now c@x.org") == "now [EMAIL_3]"


def test_only_the_studys_kinds_are_redacted() -> None:
    """A study redacting emails leaves phone numbers to its operators."""
    assert redact("a@x.org +44 20 7946 0958", ["email"]) == "[EMAIL_1] +44 20 7946 0958"


class Names:
    """A stand-in for a stronger engine: any recogniser with `kind`, `placeholder`, `find`."""

    kind = "person"
    placeholder = "NAME"

    def find(self, text: str) -> Iterator[Finding]:
        start = text.find("Ada Lovelace")
        if start >= 0:
            yield Finding(self.kind, start, start + len("Ada Lovelace"))


def test_a_recogniser_plugs_in() -> None:
    """Extra recognisers run after the built-in ones, with their own placeholder."""
    redactor = Redactor.for_kinds(["email"], [Names()])
    assert redactor.session().redact("Ada Lovelace <ada@x.org>") == "[NAME_1] <[EMAIL_1]>"
