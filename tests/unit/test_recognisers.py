"""Each recogniser finds well-formed values exactly, and its work is linear in any text.

Work is counted, not timed: a `Scan` counts the characters a recogniser examines,
and the regular expressions it hands the engine are checked to be linear by
construction (bounded repeats, none nested; an unbounded run only at the end).
"""

from __future__ import annotations

import ipaddress
import re
import string
from types import ModuleType

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.provisional import domains

from woz.research import account_numbers, addresses, phones, privacy, scan
from woz.research.account_numbers import IBAN_LENGTHS, CardRecogniser, IbanRecogniser
from woz.research.addresses import LOCAL_CHARS, EmailRecogniser, IpRecogniser
from woz.research.phones import PhoneRecogniser
from woz.research.privacy import BUILT_IN
from woz.research.scan import Scan, ScanningRecogniser

# re._parser is the standard library's own parser of patterns (sre_parse before 3.11).
from re import _constants as sre_constants  # isort: skip
from re import _parser as sre_parser  # isort: skip

MiB = 1 << 20
# The most characters a built-in recogniser may examine per character of text.
WORK_PER_CHAR = 24
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def spans(recogniser: ScanningRecogniser, text: str) -> list[str]:
    return [text[f.start : f.end] for f in recogniser.find(text)]


def work(recogniser: ScanningRecogniser, text: str) -> int:
    counted = Scan(text)
    for _ in recogniser.scan(counted):
        pass
    return counted.examined


# -- the patterns are linear by construction --------------------------------------

_REPEATS = {sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT, sre_constants.POSSESSIVE_REPEAT}
_ONE_CHARACTER = {
    sre_constants.IN,
    sre_constants.LITERAL,
    sre_constants.NOT_LITERAL,
    sre_constants.ANY,
    sre_constants.CATEGORY,
}


def nonlinear_parts(pattern: str) -> list[str]:
    """What in `pattern` could make the engine's work per position grow with the text."""
    problems: list[str] = []

    def walk(items: list[tuple[object, object]], in_repeat: bool, top_level: bool) -> None:
        for index, (op, av) in enumerate(items):
            if op in _REPEATS:
                _low, high, body = av  # type: ignore[misc]
                if in_repeat:
                    problems.append("a repeat nested in a repeat")
                unbounded = high == sre_constants.MAXREPEAT
                is_last = top_level and index == len(items) - 1
                single = len(body.data) == 1 and body.data[0][0] in _ONE_CHARACTER
                if unbounded and not (is_last and single):
                    problems.append("an unbounded repeat that something follows")
                walk(body.data, True, False)
            elif op == sre_constants.SUBPATTERN:
                walk(av[-1].data, in_repeat, top_level and index == len(items) - 1)  # type: ignore[index]
            elif op == sre_constants.BRANCH:
                for branch in av[1]:  # type: ignore[index]
                    walk(branch.data, in_repeat, False)
            elif op in (sre_constants.ASSERT, sre_constants.ASSERT_NOT):
                walk(av[1].data, in_repeat, False)  # type: ignore[index]

    walk(sre_parser.parse(pattern).data, False, True)
    return problems


def recogniser_patterns() -> list[tuple[str, re.Pattern[str]]]:
    modules: list[ModuleType] = [addresses, account_numbers, phones, privacy, scan]
    return [
        (f"{module.__name__}.{name}", value)
        for module in modules
        for name, value in vars(module).items()
        if isinstance(value, re.Pattern)
    ]


@pytest.mark.parametrize(("name", "pattern"), recogniser_patterns())
def test_every_pattern_is_linear_by_construction(name: str, pattern: re.Pattern[str]) -> None:
    """No recogniser pattern has an unbounded repeat before other items, or nested repeats."""
    assert nonlinear_parts(pattern.pattern) == []


@pytest.mark.parametrize(
    "pattern",
    [
        r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}",
        r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?![\w.]*\d)",
        r"[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?:%\w+)?(?![\w:])",
    ],
)
def test_the_linearity_check_refuses_the_patterns_that_froze_the_server(pattern: str) -> None:
    """The earlier email and IP patterns fail the check: it is not vacuous."""
    assert nonlinear_parts(pattern)


# -- pathological texts: the work stays a small multiple of the length --------------

PATHOLOGICAL = {
    "word characters": "a",
    "dots": ".",
    "digits": "7",
    "at signs": "@",
    "a@": "a@",
    "local parts": "a.b+c@",
    "almost emails": "a@b.c",
    "emails": "a@b.cd ",
    "digits and spaces": "1 ",
    "groups of four": "4111 ",
    "dashed groups": "12-",
    "parentheses": "(12) ",
    "plus signs": "+1 ",
    "dotted numbers": "1.2.",
    "hex and colons": "a:",
    "double colons": "1::",
    "zones": "fe80::1%",
    "iban starts": "DE12 ",
    "iban bodies": "GB82WEST",
    "placeholders": "[EMAIL_",
}


@pytest.mark.parametrize("unit", list(PATHOLOGICAL.values()), ids=list(PATHOLOGICAL))
@pytest.mark.parametrize("kind", list(BUILT_IN))
def test_work_is_linear_on_a_mebibyte_of_pathological_text(kind: str, unit: str) -> None:
    """On 1 MiB of a repeated pattern, work is at most a fixed multiple of the length and
    grows by four when the text does."""
    recogniser = BUILT_IN[kind]
    assert isinstance(recogniser, ScanningRecogniser)
    times = MiB // 4 // len(unit)
    quarter = work(recogniser, unit * times)
    whole = work(recogniser, unit * 4 * times)
    assert whole <= WORK_PER_CHAR * MiB
    assert whole <= 4 * quarter + 1024, (quarter, whole)  # the ends of the text aside


@FAST
@given(st.text(alphabet="a1Z@.:-+ ()%_[]", max_size=3000))
def test_work_is_linear_on_any_text(text: str) -> None:
    """Whatever the text, no recogniser examines more than a fixed multiple of it."""
    for recogniser in BUILT_IN.values():
        assert isinstance(recogniser, ScanningRecogniser)
        assert work(recogniser, text) <= WORK_PER_CHAR * len(text) + 64


# -- emails ---------------------------------------------------------------------------

AROUND = st.sampled_from([" ", "\n", ", ", "<", ">", "(", ")", ": ", "; ", '"'])
EMAIL_SHAPE = re.compile(
    rf"[{LOCAL_CHARS}]{{1,64}}@[A-Za-z0-9][A-Za-z0-9-]{{0,62}}(\.[A-Za-z0-9-]{{1,63}})*"
    r"\.([A-Za-z]{2,}|xn--[A-Za-z0-9-]+)"
)


def top_level_is_a_word(email: str) -> bool:
    top = email.rsplit(".", 1)[-1]
    return top.isalpha() or top.lower().startswith("xn--")


@FAST
@given(st.emails(domains=domains(max_length=200)).filter(top_level_is_a_word), AROUND, AROUND)
def test_an_email_between_separators_is_found_whole(email: str, before: str, after: str) -> None:
    """A well-formed email is found exactly, from its first to its last character."""
    assert spans(EmailRecogniser(), f"write{before}{email}{after}today") == [email]


@FAST
@given(st.text(alphabet="ab1.-@_+ ", max_size=400))
def test_what_is_found_is_email_shaped(text: str) -> None:
    """Every email found is a local part, an @ and a dotted domain ending in a TLD."""
    found = spans(EmailRecogniser(), text)
    assert all(EMAIL_SHAPE.fullmatch(email) for email in found), found


def test_lengths_beyond_the_rfc_limits_are_not_one_email() -> None:
    """The local part is at most 64 characters, a label at most 63, the domain 253."""
    assert spans(EmailRecogniser(), "x" * 70 + "@example.com") == ["x" * 64 + "@example.com"]
    assert spans(EmailRecogniser(), "a@" + "b" * 64 + ".com") == []
    assert spans(EmailRecogniser(), "a@" + "b." * 127 + "com") == []


# -- cards and IBANs ------------------------------------------------------------------


def with_luhn_digit(body: str) -> str:
    for digit in string.digits:
        if account_numbers.luhn_ok(body + digit):
            return body + digit
    raise AssertionError("unreachable")


card_numbers = st.builds(
    lambda first, rest: with_luhn_digit(first + rest),
    st.sampled_from("3456"),
    st.text(alphabet=string.digits, min_size=14, max_size=14),
)


@FAST
@given(card_numbers, st.sampled_from(["", " ", "-"]), AROUND)
def test_a_luhn_valid_card_is_found_and_a_mistyped_one_is_not(
    number: str, separator: str, around: str
) -> None:
    """16 digits passing Luhn, whole or in fours, are a card; one digit changed, not."""
    written = separator.join(number[i : i + 4] for i in range(0, 16, 4))
    assert spans(CardRecogniser(), f"card{around}{written}{around}ok") == [written]
    typo = written[:-1] + str((int(written[-1]) + 1) % 10)
    assert spans(CardRecogniser(), f"card{around}{typo}{around}ok") == []


def iban_of(country: str, bban: str) -> str:
    digits = (bban + country + "00").translate(account_numbers._IBAN_DIGITS)
    return f"{country}{98 - int(digits) % 97:02d}{bban}"


ibans = st.sampled_from(sorted(IBAN_LENGTHS)).flatmap(
    lambda country: st.text(
        alphabet=string.ascii_uppercase + string.digits,
        min_size=IBAN_LENGTHS[country] - 4,
        max_size=IBAN_LENGTHS[country] - 4,
    ).map(lambda bban: iban_of(country, bban))
)


@FAST
@given(ibans, st.booleans(), AROUND)
def test_a_valid_iban_is_found_and_a_changed_one_is_not(
    iban: str, grouped: bool, around: str
) -> None:
    """An IBAN of its country's length passing mod-97 is found, whole or in fours; with a
    check digit changed, it is not."""
    written = " ".join(iban[i : i + 4] for i in range(0, len(iban), 4)) if grouped else iban
    assert spans(IbanRecogniser(), f"IBAN{around}{written}{around}thanks") == [written]
    changed = written[:3] + str((int(written[3]) + 1) % 10) + written[4:]  # a check digit
    assert spans(IbanRecogniser(), f"IBAN{around}{changed}{around}thanks") == []


# -- IP addresses ---------------------------------------------------------------------


@FAST
@given(st.ip_addresses(), st.sampled_from([" ", "\n", ", ", "<", ">", "(", ")", "; ", '"']))
def test_an_ip_address_is_found_whole(address: ipaddress._BaseAddress, around: str) -> None:
    """IPv4 and IPv6 addresses of three groups or more are found exactly."""
    written = str(address)
    groups = [g for g in written.split(":") if g]
    if address.version == 6 and (len(groups) < 3 or "." in written):
        return  # `::1`, `a::b` and IPv4-mapped forms are left to the IPv4 pattern, if any
    assert spans(IpRecogniser(), f"from{around}{written}{around}today") == [written]


# -- phone numbers --------------------------------------------------------------------

digit = st.sampled_from(string.digits)
nonzero = st.sampled_from("123456789")


PHONE_SHAPES = [
    "(zxx) xxx-xxxx",
    "zxx-xxx-xxxx",
    "zxx.xxx.xxxx",
    "1-zxx-xxx-xxxx",
    "0z xx xx xx xx",
    "0zz xxxx xxxx",
    "0zz xxxxxxxx",
    "0zxx xxxxxx",
    "+z xxx xxx xxxx",
    "+zz xx xxxx xxxx",
    "+zz (0)xx xxxx xxxx",
    "+zz-xx-xxxx-xxxx",
    "+zzxxxxxxxxxxx",
    "00zz xx xxxxxx",
    "+zxx xxxxx xxxxx",
]


IDENTIFIERS = [
    "INV-YYYY-xxxxxx",
    "YYYY-MM-xxxx",
    "YYYY.MM.xx xxxx",
    "Order #xxx-xxx-xxxx",
    "PO-xxxx-xxxx",
    "SKU xxxxxxxxxxxx",
    "v1x.x.xxxxx.xxxx",
    "xxxxxxxxxxx",
    "x.xxx.xxx.xxx",
    "xxx.xxx.xx.xx",
    "xxx-x-xx-xxxxxx-x",
    "xxxx xxxx xxxx xxxx xxxx xx",
    "xx:xx:xx",
    "AB-xxxx-xxxx-xxxx",
]


@st.composite
def filled(draw: st.DrawFn, shapes: list[str]) -> str:
    """One of `shapes` with a year for YYYY, a month for MM, a digit for each x, a
    digit but 0 for each z."""
    shape = draw(st.sampled_from(shapes))
    shape = shape.replace("YYYY", str(draw(st.integers(1990, 2030))))
    shape = shape.replace("MM", f"{draw(st.integers(1, 12)):02d}")
    return "".join(draw(nonzero) if c == "z" else draw(digit) if c == "x" else c for c in shape)


@FAST
@given(filled(PHONE_SHAPES), st.sampled_from([" ", "\n", ": ", " (", ", ", "<"]))
def test_a_phone_number_in_a_national_or_international_format_is_found(
    number: str, before: str
) -> None:
    """Phones written with a country code, or with separators, are found exactly."""
    assert spans(PhoneRecogniser(), f"call{before}{number}. Thanks") == [number]


@FAST
@given(filled(IDENTIFIERS))
def test_identifiers_dates_and_amounts_are_not_phone_numbers(identifier: str) -> None:
    """Order and ticket numbers, dates, versions, ISBNs and long numbers are left alone."""
    assert spans(PhoneRecogniser(), f"see {identifier} today") == []
