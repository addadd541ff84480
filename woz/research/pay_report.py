"""What participants recruited online were paid for their time: `woz report participants`.

One row per page session (`woz.research.page_sessions`): its platform session
id (what a platform approves: Prolific's submission, MTurk's assignment), the
outcome and code, the time from the first visit to the end, and the effective
hourly rate of the study's `[recruitment] pay` over that time, against
Prolific's published floor. A withdrawn participant's row stays (their
pseudonym blank): withdrawing never forfeits pay.

Prolific judges a study's pay by the median time participants take; the
summary does the same, and says when the expected time (`expected_minutes`)
underestimates it.
"""

from __future__ import annotations

import csv
import io
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from woz.models.recruitment import RecruitmentSection
from woz.models.research import PageSession

# Prolific's published hourly rates for participants (researcher help centre, "What
# is your pay policy?", 2024): a minimum it enforces, and the rate it recommends.
PROLIFIC_RATES: dict[str, tuple[float, float]] = {"GBP": (6.00, 9.00), "USD": (8.00, 12.00)}
APPROVE = {"completed": "approve", "timed_out": "approve", "screened_out": "screened_out"}

COLUMNS = (
    "platform_session",
    "participant",
    "arm",
    "outcome",
    "code",
    "action",
    "started_at",
    "finished_at",
    "minutes",
    "pay",
    "currency",
    "hourly_rate",
    "prolific_minimum",
    "prolific_recommended",
    "below_minimum",
    "below_recommended",
)


@dataclass(frozen=True)
class PayRow:
    session: PageSession
    minutes: float | None
    hourly: float | None


def minutes_of(session: PageSession) -> float | None:
    """From the first visit to the end (None while the session is unfinished)."""
    if session.finished_at is None:
        return None
    return max(0.0, (session.finished_at - session.started_at).total_seconds() / 60)


def hourly(pay: float, minutes: float | None) -> float | None:
    """The effective hourly rate of `pay` for `minutes` (None for no time to divide by)."""
    if minutes is None or minutes <= 0:
        return None
    return pay * 60 / minutes


def pay_rows(recruitment: RecruitmentSection, sessions: Sequence[PageSession]) -> list[PayRow]:
    rows = []
    for session in sessions:
        minutes = minutes_of(session)
        paid = session.outcome in ("completed", "timed_out")
        rows.append(PayRow(session, minutes, hourly(recruitment.pay, minutes) if paid else None))
    return rows


def _money(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}"


def _flag(rate: float | None, floor: float | None) -> str:
    if rate is None or floor is None:
        return ""
    return "yes" if rate < floor else "no"


def render_csv(recruitment: RecruitmentSection, rows: Sequence[PayRow]) -> str:
    """The report as CSV, a header and one row per session, in order of first visit."""
    minimum, recommended = PROLIFIC_RATES.get(recruitment.currency, (None, None))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in rows:
        s = row.session
        writer.writerow(
            [
                s.platform_session or "",
                s.participant or "",
                s.arm or "",
                s.outcome or "unfinished",
                s.code or "",
                APPROVE.get(s.outcome or "", ""),
                s.started_at.isoformat(),
                s.finished_at.isoformat() if s.finished_at else "",
                "" if row.minutes is None else f"{row.minutes:.1f}",
                _money(recruitment.pay),
                recruitment.currency,
                _money(row.hourly),
                _money(minimum),
                _money(recommended),
                _flag(row.hourly, minimum),
                _flag(row.hourly, recommended),
            ]
        )
    return out.getvalue()


def summary(recruitment: RecruitmentSection, rows: Sequence[PayRow]) -> list[str]:
    """Lines for the researcher: codes to approve, the median time and rate, and alerts."""
    lines = []
    codes: dict[str, int] = {}
    for row in rows:
        if row.session.outcome in ("completed", "timed_out") and row.session.code:
            codes[row.session.code] = codes.get(row.session.code, 0) + 1
    if codes:
        listed = ", ".join(f"{code} ({n})" for code, n in sorted(codes.items()))
        lines.append(f"codes to approve: {listed}")
    paid = [row.minutes for row in rows if row.hourly is not None and row.minutes is not None]
    currency = recruitment.currency
    if paid:
        median = statistics.median(paid)
        rate = hourly(recruitment.pay, median)
        lines.append(
            f"median time {median:.1f} min for {recruitment.pay:.2f} {currency}: "
            f"{_money(rate)} {currency}/hour over {len(paid)} paid session(s)"
        )
        expected = recruitment.expected_minutes
        if expected is not None and median > expected:
            lines.append(
                f"alert: participants take longer than the expected {expected:g} min; "
                "raise the pay or the expected time on the platform"
            )
        minimum, recommended = PROLIFIC_RATES.get(currency, (None, None))
        if rate is not None and minimum is not None and recommended is not None:
            if rate < minimum:
                lines.append(f"alert: below Prolific's minimum of {minimum:.2f} {currency}/hour")
            elif rate < recommended:
                lines.append(
                    f"note: below Prolific's recommended {recommended:.2f} {currency}/hour"
                )
    return lines
