"""The labor ledger: what each operator's time was, and what it was paid, per hour.

Definitions (all per operator, within the period `since` .. `until`):

- **time available**: time between saying `ready` and saying `pause` or going
  offline: waiting for tasks is work (Fairwork: all time available is paid).
- **time handling tasks**: for each task the operator answered, from its
  assignment to the answer.
- **paid time**: the union of the two, so time spent finishing a task after
  pausing counts, and overlapping tasks are not counted twice.
- **earnings**: `pay_rate` x paid hours (`pay_unit = "hour"`), or `pay_rate` x
  tasks answered (`pay_unit = "task"`, a piece rate).
- **effective hourly pay**: earnings / paid hours. With an hourly rate it is
  the rate; with a piece rate it shows what waiting for tasks did to the pay.
  It is flagged when below the study's `pay_floor`.

Everything is computed from stored events and records with the period given,
so a ledger can be recomputed for any time range, and tested with fixed times.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

from pydantic import BaseModel

from woz.models.record import Record
from woz.models.research import PresenceEvent
from woz.models.study import LaborSection
from woz.models.task import ProducedBy

Interval = tuple[datetime, datetime]
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)  # "since the beginning" for a whole study's ledger
HUMAN_WORK = (ProducedBy.HUMAN, ProducedBy.HUMAN_EDITED_MODEL_DRAFT)


class OperatorLabor(BaseModel):
    operator: str
    available_s: float
    handling_s: float
    paid_s: float
    tasks_answered: int
    median_handle_s: float | None
    earnings: float
    effective_hourly: float | None
    below_floor: bool


class LaborLedger(BaseModel):
    study_id: str
    since: datetime
    until: datetime
    currency: str
    pay_rate: float
    pay_unit: str
    pay_floor: float
    operators: list[OperatorLabor]
    alerts: list[str]

    @property
    def paid_hours(self) -> float:
        return sum(op.paid_s for op in self.operators) / 3600

    def effective_hourly_stats(self) -> dict[str, float | None]:
        """Median, minimum and maximum effective hourly pay across operators."""
        pays = [op.effective_hourly for op in self.operators if op.effective_hourly is not None]
        if not pays:
            return {"median": None, "min": None, "max": None}
        return {"median": statistics.median(pays), "min": min(pays), "max": max(pays)}


def available_intervals(
    events: Sequence[PresenceEvent], since: datetime, until: datetime
) -> dict[str, list[Interval]]:
    """Per operator, the periods between `available` and the next other state."""
    started: dict[str, datetime] = {}
    intervals: dict[str, list[Interval]] = {}
    for event in sorted(events, key=lambda e: e.at):
        intervals.setdefault(event.operator, [])
        if event.state == "available":
            started.setdefault(event.operator, event.at)
        elif event.operator in started:
            intervals[event.operator].append((started.pop(event.operator), event.at))
    for operator, start in started.items():  # still available at the end of the period
        intervals[operator].append((start, until))
    return {op: _clip(spans, since, until) for op, spans in intervals.items()}


def _clip(spans: Iterable[Interval], since: datetime, until: datetime) -> list[Interval]:
    clipped = [(max(start, since), min(end, until)) for start, end in spans]
    return [(start, end) for start, end in clipped if end > start]


def union_seconds(spans: Iterable[Interval]) -> float:
    """The length of the union of `spans`, in seconds."""
    total = 0.0
    current: Interval | None = None
    for start, end in sorted(spans):
        if current is None or start > current[1]:
            if current is not None:
                total += (current[1] - current[0]).total_seconds()
            current = (start, end)
        else:
            current = (current[0], max(current[1], end))
    if current is not None:
        total += (current[1] - current[0]).total_seconds()
    return total


def compute_ledger(
    study_id: str,
    labor: LaborSection,
    events: Sequence[PresenceEvent],
    records: Sequence[Record],
    since: datetime,
    until: datetime,
) -> LaborLedger:
    """The ledger of every operator with presence or answered tasks in the period."""
    available = available_intervals(events, since, until)
    handling: dict[str, list[Interval]] = {}
    for record in records:
        t = record.timings
        if (
            record.operator is None
            or record.produced_by not in HUMAN_WORK
            or t.assigned_at is None
            or t.answered_at is None
            or not since <= t.answered_at <= until
        ):
            continue
        handling.setdefault(record.operator, []).append((t.assigned_at, t.answered_at))
    rows = [
        _operator_row(
            operator,
            labor,
            available.get(operator, []),
            _clip(handling.get(operator, []), since, until),
            [(end - start).total_seconds() for start, end in handling.get(operator, [])],
        )
        for operator in sorted(set(available) | set(handling))
    ]
    alerts = [
        f"operator {row.operator}: effective pay {row.effective_hourly:.2f} {labor.currency}/h "
        f"is below the pay floor of {labor.pay_floor:.2f} {labor.currency}/h"
        for row in rows
        if row.below_floor and row.effective_hourly is not None
    ]
    return LaborLedger(
        study_id=study_id,
        since=since,
        until=until,
        currency=labor.currency,
        pay_rate=labor.pay_rate,
        pay_unit=labor.pay_unit,
        pay_floor=labor.pay_floor,
        operators=rows,
        alerts=alerts,
    )


def _operator_row(
    operator: str,
    labor: LaborSection,
    available: list[Interval],
    handling: list[Interval],
    handle_times: list[float],
) -> OperatorLabor:
    paid_s = union_seconds([*available, *handling])
    paid_h = paid_s / 3600
    earnings = labor.pay_rate * (paid_h if labor.pay_unit == "hour" else len(handle_times))
    effective = earnings / paid_h if paid_h > 0 else None
    return OperatorLabor(
        operator=operator,
        available_s=round(union_seconds(available), 3),
        handling_s=round(union_seconds(handling), 3),
        paid_s=round(paid_s, 3),
        tasks_answered=len(handle_times),
        median_handle_s=round(statistics.median(handle_times), 3) if handle_times else None,
        earnings=round(earnings, 2),
        effective_hourly=round(effective, 2) if effective is not None else None,
        below_floor=effective is not None and labor.pay_floor > 0 and effective < labor.pay_floor,
    )
