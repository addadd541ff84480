"""`woz report labor|participants|arms`: operators' time and effective pay, participants'
sessions and pay, and the arms of an experiment compared."""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
from datetime import UTC, datetime
from typing import Any

from woz.cli.common import parse_time, run_with_store, served_study, write_or_print
from woz.research.arm_report import render_svg, render_table, summarise_arms
from woz.research.ledger import LaborLedger, compute_ledger
from woz.research.pay_report import pay_rows, render_csv, summary
from woz.store.base import Store
from woz.text_table import aligned


def cmd_report_labor(args: argparse.Namespace) -> None:
    async def work(store: Store) -> None:
        study = await served_study(store, args.study)
        events = await store.list_presence(study.id)
        records = await store.list_records(study.id)
        first = [e.at for e in events] + [r.timings.received_at for r in records]
        since = parse_time(args.since) or (min(first) if first else datetime.now(UTC))
        until = parse_time(args.until) or datetime.now(UTC)
        ledger = compute_ledger(study.id, study.labor, events, records, since, until)
        print(render_ledger(ledger, args.format), end="")
        for alert in ledger.alerts:
            print(f"woz: pay alert: {alert}", file=sys.stderr)

    run_with_store(work, args)


def cmd_report_participants(args: argparse.Namespace) -> None:
    """The participants' sessions as CSV (stdout or --out); the summary on stderr."""
    rendered: list[str] = []

    async def work(store: Store) -> None:
        study = await served_study(store, args.study)
        rows = pay_rows(study.recruitment, await store.list_page_sessions(study.id))
        rendered.append(render_csv(study.recruitment, rows))
        rendered.extend(summary(study.recruitment, rows))

    run_with_store(work, args)
    write_or_print(rendered[0], args.out)
    for line in rendered[1:]:
        print(f"woz: {line}", file=sys.stderr)


def cmd_report_arms(args: argparse.Namespace) -> None:
    rendered: list[str] = []

    async def work(store: Store) -> None:
        study = await served_study(store, args.study)
        ratings = {f.record_id: f.rating for f in await store.list_feedback(study.id)}
        summaries = summarise_arms(await store.list_records(study.id), ratings)
        if args.format == "json":
            rendered.append(json.dumps([s.model_dump() for s in summaries], indent=2) + "\n")
        elif args.format == "svg":
            rendered.append(render_svg(summaries, f"Response latency by arm: {study.title}"))
        else:
            rendered.append(render_table(summaries) + "\n")

    run_with_store(work, args)
    write_or_print(rendered[0], args.out)


LEDGER_COLUMNS = (
    "operator",
    "available_s",
    "handling_s",
    "paid_s",
    "tasks_answered",
    "median_handle_s",
    "earnings",
    "effective_hourly",
    "below_floor",
)


def render_ledger(ledger: LaborLedger, fmt: str) -> str:
    """The ledger as a terminal table, JSON, or CSV (one row per operator)."""
    if fmt == "json":
        body: dict[str, Any] = ledger.model_dump(mode="json")
        body["effective_hourly"] = ledger.effective_hourly_stats()
        return json.dumps(body, indent=2) + "\n"
    rows = [[_cell(getattr(op, c)) for c in LEDGER_COLUMNS] for op in ledger.operators]
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerows([list(LEDGER_COLUMNS), *rows])
        return out.getvalue()
    table = aligned([list(LEDGER_COLUMNS), *rows])
    unit = "hour" if ledger.pay_unit == "hour" else "task"
    header = (
        f"Labor ledger of {ledger.study_id}, {ledger.since:%Y-%m-%d %H:%M} to "
        f"{ledger.until:%Y-%m-%d %H:%M} UTC; pay {ledger.pay_rate:.2f} {ledger.currency} per "
        f"{unit}, floor {ledger.pay_floor:.2f} {ledger.currency}/h; times in seconds"
    )
    if not rows:
        table = ["(no operator was available or answered a task in this period)"]
    return "\n".join([header, *table]) + "\n"


def _cell(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "BELOW FLOOR" if value else "ok"
    return f"{value:.2f}" if isinstance(value, float) else str(value)


def add_report_commands(commands: Any) -> None:
    """Add `report` to the `woz` command's subparsers."""
    report = commands.add_parser("report", help="reports on a study")
    reports = report.add_subparsers(dest="report_command", required=True)
    labor = reports.add_parser("labor", help="operators' time, tasks and effective pay")
    labor.add_argument("--study", required=True, help="study id (or study file)")
    labor.add_argument("--format", default="table", choices=["table", "json", "csv"])
    labor.add_argument("--since", help="start of the period (ISO 8601; default: first event)")
    labor.add_argument("--until", help="end of the period (ISO 8601; default: now)")
    labor.set_defaults(func=cmd_report_labor)
    people = reports.add_parser(
        "participants", help="participants' sessions, codes to approve and effective pay (CSV)"
    )
    people.add_argument("--study", required=True, help="study id (or study file)")
    people.add_argument("--out", help="write the CSV to this file instead of printing")
    people.set_defaults(func=cmd_report_participants)
    arms = reports.add_parser("arms", help="compare the arms of an experiment")
    arms.add_argument("--study", required=True, help="study id (or study file)")
    arms.add_argument("--format", default="table", choices=["table", "json", "svg"])
    arms.add_argument("--out", help="write to this file instead of printing")
    arms.set_defaults(func=cmd_report_arms)
