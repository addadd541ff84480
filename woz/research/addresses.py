"""Email addresses and IP addresses, found in time linear in the text (see `woz.research.scan`).

An email is found from its `@` outwards, within the lengths RFC 5321 allows
(a local part of at most 64 characters, a domain of at most 253 in labels of at
most 63): each character is read at most a few times however the text is
made, where a pattern such as `[chars]+@` would rescan a long run of word
characters from each of its positions.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator
from string import ascii_letters

from woz.research.scan import Finding, Scan, ScanningRecogniser

MAX_LOCAL = 64
MAX_DOMAIN = 253
MAX_LABEL = 63
LOCAL_CHARS = "A-Za-z0-9.!#$%&'*+/=?^_`{|}~-"
# An `@` with a local-part character before it and a label and a dot after it.
EMAIL_AT = re.compile(rf"(?<=[{LOCAL_CHARS}])@(?=[A-Za-z0-9][A-Za-z0-9-]{{0,{MAX_LABEL - 1}}}\.)")
LOCAL_RUN = re.compile(rf"[{LOCAL_CHARS}]{{1,{MAX_LOCAL}}}")
# One more than a domain may hold (and its trailing dot), to tell a run that is too long.
DOMAIN_RUN = re.compile(rf"[A-Za-z0-9.-]{{1,{MAX_DOMAIN + 2}}}")


class EmailRecogniser(ScanningRecogniser):
    """`local@domain.tld`: a local part of the usual unquoted characters, a dotted domain
    whose last label is a top-level domain (letters, or `xn--` punycode)."""

    kind = "email"
    placeholder = "EMAIL"

    def scan(self, scan: Scan) -> Iterator[Finding]:
        floor = 0  # no local part reaches back over an earlier `@` or email
        for at in scan.finditer(EMAIL_AT):
            position = at.start()
            start = _local_start(scan, max(floor, position - MAX_LOCAL), position)
            floor = position + 1
            if start is None:
                continue
            end = _domain_end(scan, position + 1)
            if end is not None:
                yield Finding(self.kind, start, end)
                floor = end


def _local_start(scan: Scan, lowest: int, at: int) -> int | None:
    """Where the local part before the `@` at `at` begins: the run of local-part
    characters ending there, no earlier than `lowest`."""
    window = scan.read(lowest, at)
    run = LOCAL_RUN.match(window[::-1])  # the run that ends at the `@`, read backwards
    return at - run.end() if run else None


def _domain_end(scan: Scan, start: int) -> int | None:
    """Where the domain starting at `start` ends: after the last label that makes it
    `label(.label)*.tld`, or None when there is no such label or the domain is too long."""
    run = scan.match(DOMAIN_RUN, start, start + MAX_DOMAIN + 2)
    if run is None or len(run.group()) > MAX_DOMAIN + 1:
        return None
    labels = scan.read(start, run.end()).split(".")
    end: int | None = None
    offset = 0
    for index, label in enumerate(labels):
        if not label or len(label) > MAX_LABEL:
            break
        top_level = _top_level_length(label) if index > 0 else 0
        if top_level:
            end = start + offset + top_level
        offset += len(label) + 1
    return end


def _top_level_length(label: str) -> int:
    """How much of `label` reads as a top-level domain: its leading letters when there
    are at least two (`com`, `co` of `co1`), or all of a punycode one (`xn--p1ai`)."""
    if label[:4].lower() == "xn--":
        return len(label)
    letters = len(label) - len(label.lstrip(ascii_letters))
    return letters if letters >= 2 else 0


# Four numbers of up to three digits, not part of a longer dotted or word run.
IPV4 = re.compile(r"(?<![\w.])[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}(?!\w|\.[0-9])")
# Hex groups and colons, starting where no word or colon precedes; at most 44 long, so
# a run that goes on is too long for an address (39 characters at most).
IPV6 = re.compile(r"(?<![\w:])[0-9A-Fa-f]{0,4}:[0-9A-Fa-f:]{2,40}")
ZONE = re.compile(r"%[0-9A-Za-z_.-]{1,16}")
MAX_IPV6 = 39


class IpRecogniser(ScanningRecogniser):
    """IPv4 and IPv6 addresses (an IPv6 with at least three groups, so `a::b` and clock
    times are left alone), confirmed by the standard library's parser."""

    kind = "ip_address"
    placeholder = "IP"

    def scan(self, scan: Scan) -> Iterator[Finding]:
        for match in scan.finditer(IPV4):
            if _parses(match.group()):
                yield Finding(self.kind, match.start(), match.end())
        for match in scan.finditer(IPV6):
            end = self._v6_end(scan, match)
            if end is not None:
                yield Finding(self.kind, match.start(), end)

    @staticmethod
    def _v6_end(scan: Scan, match: re.Match[str]) -> int | None:
        address, end = match.group(), match.end()
        if len(address) > MAX_IPV6 or len([g for g in address.split(":") if g]) < 3:
            return None
        if scan.char(end) == "%":
            zone = scan.match(ZONE, end, end + 17)
            end = zone.end() if zone else end
        following = scan.char(end)
        if following == ":" or following.isalnum() or following == "_":
            return None  # the run goes on: not an address, or longer than one
        return end if _parses(address) else None


def _parses(address: str) -> bool:
    try:
        ipaddress.ip_address(address)
    except ValueError:
        return False
    return True
