"""The labor ledger over a scripted shift with fixed times: paid time, pay, the floor alert."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.unit.records import make_record
from woz.cli.report import render_ledger
from woz.models.record import Record, Timings
from woz.models.research import PresenceEvent, PresenceState
from woz.models.study import LaborSection
from woz.research.ledger import compute_ledger, union_seconds

START = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return START + timedelta(minutes=minutes)


def presence(operator: str, state: PresenceState, minutes: float) -> PresenceEvent:
    return PresenceEvent(study_id="s", operator=operator, state=state, at=at(minutes))


def answered(operator: str, assigned: float, done: float) -> Record:
    timings = Timings(received_at=at(assigned), assigned_at=at(assigned), answered_at=at(done))
    return make_record(id=f"rec_{operator}_{assigned}", operator=operator, timings=timings)


# 09:00 connects (paused: not available), 09:10 ready, waits, answers three tasks
# (09:20-09:24, 09:30-09:32, 09:40-09:46), pauses 10:10, comes back 10:20, leaves 10:30;
# it finishes the last task of the first stint after pausing (10:08-10:14).
SHIFT = [
    presence("op_a", "paused", 0),
    presence("op_a", "available", 10),
    presence("op_a", "paused", 70),
    presence("op_a", "available", 80),
    presence("op_a", "offline", 90),
]
TASKS = [answered("op_a", 20, 24), answered("op_a", 30, 32), answered("op_a", 40, 46),
         answered("op_a", 68, 74)]  # fmt: skip


def test_scripted_shift_paid_time_and_pay_floor_alert() -> None:
    """Waiting counts as paid; a piece rate that pays little per hour raises the alert."""
    labor = LaborSection(pay_rate=1.5, pay_unit="task", currency="EUR", pay_floor=12.0)
    ledger = compute_ledger("s", labor, SHIFT, TASKS, START, at(120))
    [row] = ledger.operators
    # available 10-70 and 80-90 (70 min); handling 68-74 adds 70-74: 74 minutes paid
    assert abs(row.paid_s - 74 * 60) <= 5
    assert row.available_s == 70 * 60 and row.tasks_answered == 4
    assert row.median_handle_s == 5 * 60  # 4, 2, 6, 6 minutes
    assert row.earnings == 6.0
    assert row.effective_hourly == round(6.0 / (74 / 60), 2)
    assert row.below_floor
    assert ledger.alerts == [
        f"operator op_a: effective pay {row.effective_hourly:.2f} EUR/h is below the pay floor "
        "of 12.00 EUR/h"
    ]


def test_hourly_rate_pays_all_available_time() -> None:
    """At an hourly rate the effective pay is the rate, and no alert when it meets the floor."""
    labor = LaborSection(pay_rate=15.0, pay_unit="hour", pay_floor=12.0)
    ledger = compute_ledger("s", labor, SHIFT, TASKS, START, at(120))
    [row] = ledger.operators
    assert row.effective_hourly == 15.0 and not row.below_floor and ledger.alerts == []
    assert row.earnings == round(15.0 * 74 / 60, 2)


def test_period_clips_the_shift_and_open_availability_ends_at_until() -> None:
    """Only time inside the period counts; someone still available is counted up to `until`."""
    labor = LaborSection(pay_rate=10.0)
    ongoing = [presence("op_b", "available", 0)]
    ledger = compute_ledger("s", labor, ongoing, [], at(30), at(45))
    assert ledger.operators[0].available_s == 15 * 60


def test_union_counts_overlaps_once() -> None:
    assert union_seconds([(at(0), at(10)), (at(5), at(15)), (at(20), at(21))]) == 16 * 60


def test_rendering_an_empty_period_and_a_shift() -> None:
    """The terminal table says when nobody worked; CSV has a header and one row per operator."""
    labor = LaborSection(pay_rate=15.0)
    empty = compute_ledger("s", labor, [], [], START, at(60))
    assert render_ledger(empty, "table").splitlines()[1].startswith("(no operator")
    busy = compute_ledger("s", labor, SHIFT, TASKS, START, at(120))
    table = render_ledger(busy, "table").splitlines()
    assert table[1].split()[:2] == ["operator", "available_s"] and table[2].startswith("op_a")
    assert render_ledger(busy, "csv").splitlines()[1].startswith("op_a,4200.00,")
