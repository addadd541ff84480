"""The research commands: participants, operators, export, report labor and arms, audit.

They work on the data folder, with or without a server running. The rules a
study was run under (permitted uses, debrief policy, pay rate...) are the
definition it was last served with, which `woz serve` keeps in the store;
`--study` takes the study id, or its file (for its id). A study never served
from this data folder is refused. Every refusal is one line and exit status 2.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import json
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from woz.config import Settings
from woz.export import FORMATS, INCLUDABLE, ExportRefused, export_dataset, load_definition
from woz.media import MediaFolder
from woz.models.study import Study
from woz.research.arm_report import render_svg, render_table, summarise_arms
from woz.research.audit import verify_chain
from woz.research.consent import ConsentRefused
from woz.research.ledger import LaborLedger, compute_ledger
from woz.research.operator_consent import OperatorConsents
from woz.research.participants import NotAllowed, Participants
from woz.store.sqlite import SQLiteStore
from woz.study import StudyFileError, load_study
from woz.text_table import aligned

PURPOSES = (
    "in_study_analysis",
    "publication_excerpts",
    "internal_model_training",
    "public_dataset_release",
    "commercial_use",
)


class CommandRefused(Exception):
    """A research command refused; the message is printed as is."""


def _settings(args: argparse.Namespace) -> Settings:
    return Settings(data=args.data) if args.data is not None else Settings()


def _store(args: argparse.Namespace) -> SQLiteStore:
    return SQLiteStore(_settings(args).database)


def _study_id(value: str) -> str:
    if value.endswith(".toml"):
        try:
            return load_study(Path(value)).id
        except StudyFileError as exc:
            raise CommandRefused(str(exc)) from exc
    return value


async def _study(store: SQLiteStore, value: str) -> Study:
    study_id = _study_id(value)
    definition = await store.study_definition(study_id)
    if definition is None:
        raise CommandRefused(
            f"study {study_id!r} has never been served from this data folder; "
            "check --data, or serve it once (woz serve) so woz knows its rules"
        )
    return load_definition(definition)


def _run(work: Callable[[SQLiteStore], Awaitable[None]], args: argparse.Namespace) -> None:
    async def main() -> None:
        store = _store(args)
        await store.open()
        try:
            await work(store)
        finally:
            await store.close()

    try:
        asyncio.run(main())
    except (ExportRefused, NotAllowed, ConsentRefused) as exc:
        raise CommandRefused(str(exc)) from exc


async def _participants(store: SQLiteStore, args: argparse.Namespace) -> tuple[Participants, str]:
    study = await _study(store, args.study)
    secret = await store.study_secret(study.id, study.title)
    media = MediaFolder(_settings(args).data / "media")
    participants = Participants(store, study, secret, media)
    who = args.participant if args.pseudonym else participants.pseudonym_of(args.participant)
    return participants, who


def cmd_withdraw(args: argparse.Namespace) -> None:
    async def work(store: SQLiteStore) -> None:
        participants, who = await _participants(store, args)
        grave = await participants.withdraw(who, "cli")
        print(
            f"Withdrew participant {who}: {grave.records_deleted} record(s) deleted; "
            f"tombstone {grave.subject}"
        )

    _run(work, args)


def cmd_debrief(args: argparse.Namespace) -> None:
    async def work(store: SQLiteStore) -> None:
        participants, who = await _participants(store, args)
        event = await participants.debrief(who, "cli")
        print(f"Participant {who} debriefed at {event.at.isoformat()}.")

    _run(work, args)


def cmd_show(args: argparse.Namespace) -> None:
    async def work(store: SQLiteStore) -> None:
        participants, who = await _participants(store, args)
        status = await participants.status(who)
        print(status.model_dump_json(indent=2))

    _run(work, args)


async def _operator_consents(store: SQLiteStore, args: argparse.Namespace) -> OperatorConsents:
    study = await _study(store, args.study)
    return OperatorConsents(store, study, await store.study_secret(study.id, study.title))


def cmd_operator_consent(args: argparse.Namespace) -> None:
    async def work(store: SQLiteStore) -> None:
        consents = await _operator_consents(store, args)
        key = await consents.find(args.operator)
        scopes = None if args.all_permitted else (args.scope or [])
        consent = await consents.record(key, scopes, args.method, "cli")
        uses = ", ".join(consent.scopes) or "no use (consent withdrawn)"
        print(
            f"Recorded operator {key.name or key.id} ({consent.subject})'s consent to reuse "
            f"agreement version {consent.version}: {uses}."
        )

    _run(work, args)


def cmd_operator_list(args: argparse.Namespace) -> None:
    async def work(store: SQLiteStore) -> None:
        consents = await _operator_consents(store, args)
        in_force = await consents.in_force()
        rows = [("key", "name", "pseudonym", "reuse consent")]
        for key in await consents.operators():
            alias = consents.pseudonym_of(key)
            consent = in_force.get(alias)
            given = (
                f"v{consent.version} {consent.granted_at:%Y-%m-%d}: "
                + (", ".join(consent.scopes) or "none")
                if consent
                else "not recorded"
            )
            rows.append((key.id, key.name, alias, given))
        print("\n".join(aligned(rows)))

    _run(work, args)


def cmd_export(args: argparse.Namespace) -> None:
    async def work(store: SQLiteStore) -> None:
        study = await _study(store, args.study)
        manifest = await export_dataset(
            store, study, args.format, args.purpose, Path(args.out), args.include or []
        )
        excluded = sum(manifest.exclusions.values())
        print(
            f"Exported {manifest.records} record(s) of study {study.id!r} as {args.format} "
            f"for {args.purpose} to {args.out} ({excluded} excluded: "
            f"{json.dumps(manifest.exclusions)}; {manifest.withdrawn_participants} withdrawn)."
        )

    _run(work, args)


def _when(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise CommandRefused(f"{value!r} is not an ISO 8601 time (say 2026-05-01T09:00)") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def cmd_report_labor(args: argparse.Namespace) -> None:
    async def work(store: SQLiteStore) -> None:
        study = await _study(store, args.study)
        events = await store.list_presence(study.id)
        records = await store.list_records(study.id)
        first = [e.at for e in events] + [r.timings.received_at for r in records]
        since = _when(args.since) or (min(first) if first else datetime.now(UTC))
        until = _when(args.until) or datetime.now(UTC)
        ledger = compute_ledger(study.id, study.labor, events, records, since, until)
        print(render_ledger(ledger, args.format), end="")
        for alert in ledger.alerts:
            print(f"woz: pay alert: {alert}", file=sys.stderr)

    _run(work, args)


def cmd_report_arms(args: argparse.Namespace) -> None:
    rendered: list[str] = []

    async def work(store: SQLiteStore) -> None:
        study = await _study(store, args.study)
        summaries = summarise_arms(await store.list_records(study.id))
        if args.format == "json":
            rendered.append(json.dumps([s.model_dump() for s in summaries], indent=2) + "\n")
        elif args.format == "svg":
            rendered.append(render_svg(summaries, f"Response latency by arm: {study.title}"))
        else:
            rendered.append(render_table(summaries) + "\n")

    _run(work, args)
    if args.out:
        Path(args.out).write_text(rendered[0], encoding="utf-8")
        print(f"wrote {args.out}")
    else:
        print(rendered[0], end="")


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


def cmd_audit_verify(args: argparse.Namespace) -> None:
    async def work(store: SQLiteStore) -> None:
        studies = [_study_id(args.study)] if args.study else list(await store.audited_studies())
        broken = []
        for study_id in studies:
            report = verify_chain(study_id, await store.list_audit(study_id))
            state = "ok" if report.ok else "BROKEN"
            print(f"{study_id}: {state}, {report.entries} entries, head {report.head}")
            broken += [f"{study_id}: {problem}" for problem in report.problems]
        if broken:
            raise CommandRefused("the audit log was tampered with: " + "; ".join(broken))

    _run(work, args)


def add_research_commands(commands: Any) -> None:
    """Add the research commands to the `woz` command's subparsers."""
    participants = commands.add_parser("participants", help="consent, debrief, withdrawal")
    actions = participants.add_subparsers(dest="participants_command", required=True)
    for name, func, text in (
        ("withdraw", cmd_withdraw, "delete a participant's data everywhere, keep a tombstone"),
        ("debrief", cmd_debrief, "record that a participant was debriefed"),
        ("show", cmd_show, "print a participant's consent, debrief and withdrawal status"),
    ):
        action = actions.add_parser(name, help=text)
        action.add_argument("--study", required=True, help="study id (or study file)")
        action.add_argument("participant", help="the app's id for the participant")
        action.add_argument(
            "--pseudonym", action="store_true", help="PARTICIPANT is woz's pseudonym (p_...)"
        )
        action.set_defaults(func=func)

    operators = commands.add_parser("operators", help="operators and their consent to reuse")
    operator_actions = operators.add_subparsers(dest="operators_command", required=True)
    listing = operator_actions.add_parser(
        "list", help="the study's operators, pseudonyms and reuse consent"
    )
    listing.add_argument("--study", required=True, help="study id (or study file)")
    listing.set_defaults(func=cmd_operator_list)
    consent = operator_actions.add_parser(
        "consent", help="record an operator's consent to the reuse of their text"
    )
    consent.add_argument("--study", required=True, help="study id (or study file)")
    consent.add_argument("operator", help="the operator's key id or name")
    uses = consent.add_mutually_exclusive_group(required=True)
    uses.add_argument(
        "--scope", action="append", choices=PURPOSES, help="a use granted (repeat for more)"
    )
    uses.add_argument("--all-permitted", action="store_true", help="every use the study permits")
    uses.add_argument("--none", action="store_true", help="no use: withdraw their consent")
    consent.add_argument(
        "--method", default="signed_form", help="how it was given (default signed_form)"
    )
    consent.set_defaults(func=cmd_operator_consent)

    export = commands.add_parser("export", help="write a dataset, its card and manifest")
    export.add_argument("--study", required=True, help="study id (or study file)")
    export.add_argument("--format", required=True, choices=FORMATS)
    export.add_argument("--purpose", required=True, choices=PURPOSES)
    export.add_argument("--out", required=True, help="a new (or empty) folder")
    export.add_argument(
        "--include", action="append", choices=INCLUDABLE, help="also export these, flagged"
    )
    export.set_defaults(func=cmd_export)

    report = commands.add_parser("report", help="reports on a study")
    reports = report.add_subparsers(dest="report_command", required=True)
    labor = reports.add_parser("labor", help="operators' time, tasks and effective pay")
    labor.add_argument("--study", required=True, help="study id (or study file)")
    labor.add_argument("--format", default="table", choices=["table", "json", "csv"])
    labor.add_argument("--since", help="start of the period (ISO 8601; default: first event)")
    labor.add_argument("--until", help="end of the period (ISO 8601; default: now)")
    labor.set_defaults(func=cmd_report_labor)
    arms = reports.add_parser("arms", help="compare the arms of an experiment")
    arms.add_argument("--study", required=True, help="study id (or study file)")
    arms.add_argument("--format", default="table", choices=["table", "json", "svg"])
    arms.add_argument("--out", help="write to this file instead of printing")
    arms.set_defaults(func=cmd_report_arms)

    audit = commands.add_parser("audit", help="the audit log")
    audit_actions = audit.add_subparsers(dest="audit_command", required=True)
    verify = audit_actions.add_parser("verify", help="check every study's hash chain")
    verify.add_argument("--study", help="only this study")
    verify.set_defaults(func=cmd_audit_verify)
