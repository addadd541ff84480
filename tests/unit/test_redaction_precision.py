"""Precision and recall of redaction on a labelled set of sentences.

Half the sentences hold no personal data but the numbers that look like it
(orders, tickets, dates, times, versions, prices, ISBNs, tracking codes); the
others hold seeded emails, phones in many national formats, cards, IBANs and IP
addresses. A seeded value is recalled when it is replaced by one placeholder of
its kind; every other placeholder is a false alarm.
"""

from __future__ import annotations

from collections import Counter

from woz.research.privacy import BUILT_IN, Redactor

Part = str | tuple[str, str]  # plain text, or (kind, value) of seeded personal data

PII_FREE: list[str] = [
    "Your invoice INV-2024-000187 has been paid.",
    "Ticket 2025-11-0042 was escalated to the second line.",
    "Order #123-456-7890 ships on Monday.",
    "PO-7781-2231 covers the spring catalogue.",
    "The meeting is on 2024-01-15 at 12:30:45 in room 4.12.",
    "The train leaves at 09:45 and arrives at 13:05.",
    "We upgraded to version 10.0.19045.3803 last night.",
    "Python 3.11.7 and Node 20.10.0 are installed.",
    "The laptop costs 1,299.00 euros, or $1,349.99 in the US store.",
    "The budget was 1.234.567.890 EUR for 2024.",
    "ISBN 978-3-16-148410-0 is the second edition.",
    "See ISBN 0-306-40615-2 on page 12.",
    "Tracking number 1Z999AA10123456784 via UPS.",
    "USPS tracking 9400 1000 0000 0000 0000 00 is in transit.",
    "Your parcel JD014600006281230703 left the depot.",
    "SKU 400012345678 is out of stock.",
    "The ratio was 3:4:5 across 12 runs.",
    "Case 00123456 was closed on 15.01.2024.",
    "Flight LH 2024 departs from gate B12 at 18:20.",
    "The population grew from 8,000,000 to 8,400,000 in 10 years.",
    "Set the timeout to 30000 ms and retry 3 times.",
    "Coordinates 48.8584, 2.2945 mark the tower.",
    "Build 2025.11.03-rc2 fixed issue #4521.",
    "Reference AB-2024-0099-1234 is pending review.",
    "We shipped 12 345 units and 6 789 spares.",
    "The serial number SN-4411-2090-7731 is engraved on the back.",
    "Patch notes for 2.4.1 (2025-03-14) list 27 fixes.",
    "Due 01/15/2024, the invoice total is 4,250.00.",
    "Release 2025-11-03 10:00 UTC, checksum 3f9a0c.",
    "Branch code 001.000.00.00 is the head office.",
]

SEEDED: list[list[Part]] = [
    ["Call me on ", ("phone", "+44 20 7946 0958"), " after six."],
    ["My number is ", ("phone", "(555) 123-4567"), "."],
    ["Reach us at ", ("phone", "555-123-4567"), " or ", ("phone", "555.987.6543"), "."],
    ["Ring ", ("phone", "+1-202-555-0173"), " for the front desk."],
    ["Mon numéro est le ", ("phone", "06 12 34 56 78"), "."],
    [
        "Unsere Nummer: ",
        ("phone", "030 12345678"),
        ", aus dem Ausland ",
        ("phone", "0049 30 901820"),
    ],
    ["Call ", ("phone", "020 7946 0958"), " 24 hours a day."],
    ["WhatsApp me at ", ("phone", "+4915112345678"), "!"],
    ["Toll free: ", ("phone", "1-800-555-0199"), "."],
    ["Il mio cellulare è ", ("phone", "+39 347 123 4567"), "."],
    ["Mi teléfono es ", ("phone", "612 345 678"), "."],
    ["Our Sydney office is on ", ("phone", "+61 2 9876 5432"), "."],
    ["In Tokyo dial ", ("phone", "+81 3-1234-5678"), "."],
    ["Bel ons op ", ("phone", "020-123 4567"), "."],
    ["Appelez le ", ("phone", "+33 1 23 45 67 89"), " demain."],
    ["Swiss line (", ("phone", "+41 44 668 18 00"), ")."],
    ["From abroad: ", ("phone", "+44 (0)20 7946 0958"), "."],
    ["Home ", ("phone", "020 7946 0958"), " ", ("phone", "020 7946 0959"), " (either)."],
    ["Numéros : ", ("phone", "06 12 34 56 78"), " ", ("phone", "06 98 76 54 32"), "."],
    ["Write to ", ("email", "jane.doe@example.com"), " for details."],
    ["CC ", ("email", "Bob.O'Neil+shop@mail.example.co.uk"), " please."],
    ["Card ", ("payment_card", "4111 1111 1111 1111"), " expires 12/27."],
    ["Charge ", ("payment_card", "5555-5555-5555-4444"), " again."],
    ["Amex ", ("payment_card", "378282246310005"), " is on file."],
    ["Pay to ", ("iban", "DE89 3704 0044 0532 0130 00"), " by Friday."],
    ["IBAN ", ("iban", "GB82WEST12345698765432"), " for the refund."],
    ["Compte ", ("iban", "FR14 2004 1010 0505 0001 3M02 606"), "."],
    ["Login from ", ("ip_address", "192.168.10.42"), " at 10:15."],
    ["The server ", ("ip_address", "2001:db8:85a3::8a2e:370:7334"), " replied."],
    [
        "Contact ",
        ("email", "jane@example.org"),
        " or ",
        ("phone", "+44 20 7946 0958"),
        ", card ",
        ("payment_card", "4111-1111-1111-1111"),
        ", order INV-2024-000188.",
    ],
]

PLACEHOLDERS = {kind: recogniser.placeholder for kind, recogniser in BUILT_IN.items()}


def expected_redaction(parts: list[Part]) -> str:
    numbers: dict[str, int] = Counter()
    out = []
    for part in parts:
        if isinstance(part, str):
            out.append(part)
        else:
            kind = part[0]
            numbers[kind] += 1
            out.append(f"[{PLACEHOLDERS[kind]}_{numbers[kind]}]")
    return "".join(out)


def test_precision_and_recall_on_the_labelled_set() -> None:
    """No PII-free sentence changes, and every seeded value becomes its placeholder."""
    labelled: list[list[Part]] = [[sentence] for sentence in PII_FREE] + SEEDED
    assert len(labelled) >= 40
    true_positives = false_positives = 0
    wrong: list[tuple[str, str]] = []
    for parts in labelled:
        text = "".join(part if isinstance(part, str) else part[1] for part in parts)
        seeded = [part for part in parts if not isinstance(part, str)]
        session = Redactor.for_kinds(list(BUILT_IN)).session()
        redacted = session.redact(text)
        wanted = Counter(kind for kind, _ in seeded)
        still_visible = Counter(kind for kind, value in seeded if value in redacted)
        for kind in BUILT_IN:
            found = session.counts.get(kind, 0)
            hits = min(found, wanted[kind] - still_visible[kind])
            true_positives += hits
            false_positives += found - hits
        if redacted != expected_redaction(parts):
            wrong.append((text, redacted))
    recall = true_positives / sum(
        len(parts) - sum(isinstance(p, str) for p in parts) for parts in SEEDED
    )
    precision = true_positives / (true_positives + false_positives)
    print(f"redaction of {len(labelled)} sentences: precision {precision:.3f}, recall {recall:.3f}")
    assert (precision, recall) == (1.0, 1.0), wrong
    assert wrong == []
