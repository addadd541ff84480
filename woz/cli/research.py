"""The research commands: participants, export, report labor, arms and participants,
audit verify.

They work on the store (SQLite in the data folder, or PostgreSQL at --database-url),
with or without a server running. The rules a study was run under (permitted uses,
debrief policy, pay rate...) are the definition it was last served with, which
`woz serve` keeps in the store; `--study` takes the study id, or its file (for its
id). A study never served from this store is refused. Every refusal is one line and exit status 2.
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

from pydantic import ValidationError

from woz.config import Settings
from woz.export import FORMATS, INCLUDABLE, ExportRefused, export_dataset, load_definition
from woz.media.files import MediaFolder
from woz.models.pseudonyms import tombstone_of
from woz.models.study import Study
from woz.research.arm_report import render_svg, render_table, summarise_arms
from woz.research.audit import verify_chain
from woz.research.consent import ConsentRefused
from woz.research.ledger import LaborLedger, compute_ledger
from woz.research.operators import RecordRefused
from woz.research.participants import NotAllowed, Participants
from woz.research.pay_report import pay_rows, render_csv, summary
from woz.store.base import Store
from woz.store.factory import store_for
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


# The options a command line may set, by the name of the setting each one sets.
_OPTIONS = ("data", "database_url", "redis_url", "host", "port")


def settings_from(args: argparse.Namespace) -> Settings:
    """The settings: the environment's (`WOZ_...`), with the options given on top."""
    given = {
        name: getattr(args, name) for name in _OPTIONS if getattr(args, name, None) is not None
    }
    try:
        return Settings(**given)
    except ValidationError as exc:
        problems = "; ".join(
            f"{_option_name(error['loc'])}: {error['msg'].removeprefix('Value error, ')}"
            for error in exc.errors()
        )
        raise CommandRefused(problems) from None


def _option_name(location: tuple[int | str, ...]) -> str:
    name = str(location[0]) if location else "setting"
    return f"--{name.replace('_', '-')} (or WOZ_{name.upper()})"


def _store(args: argparse.Namespace) -> Store:
    return store_for(settings_from(args))


def study_id_of(value: str) -> str:
    if value.endswith(".toml"):
        try:
            return load_study(Path(value)).id
        except StudyFileError as exc:
            raise CommandRefused(str(exc)) from exc
    return value


async def served_study(store: Store, value: str) -> Study:
    study_id = study_id_of(value)
    definition = await store.study_definition(study_id)
    if definition is None:
        raise CommandRefused(
            f"study {study_id!r} has never been served from this store; check --data"
            " (or --database-url), or serve it once (woz serve) so woz knows its rules"
        )
    return load_definition(definition)


def run_with_store(work: Callable[[Store], Awaitable[None]], args: argparse.Namespace) -> None:
    async def main() -> None:
        store = _store(args)
        await store.open()
        try:
            await work(store)
        finally:
            await store.close()

    try:
        asyncio.run(main())
    except (ExportRefused, NotAllowed, ConsentRefused, RecordRefused) as exc:
        raise CommandRefused(str(exc)) from exc


async def _participants(store: Store, args: argparse.Namespace) -> tuple[Participants, str]:
    study = await served_study(store, args.study)
    secret = await store.study_secret(study.id, study.title)
    media = MediaFolder(settings_from(args).data / "media", store)
    participants = Participants(store, study, secret, media)
    who = args.participant if args.pseudonym else participants.pseudonym_of(args.participant)
    return participants, who


def cmd_withdraw(args: argparse.Namespace) -> None:
    """Withdraw a participant; an id woz knows nothing of is refused (a typo would
    otherwise "succeed" and leave the real participant's data in place) unless forced."""

    async def work(store: Store) -> None:
        participants, who = await _participants(store, args)
        study_id = participants.study.id
        if not args.force and not await participants.known(who):
            hint = "" if args.pseudonym else "; a woz pseudonym (p_...) needs --pseudonym"
            raise CommandRefused(
                f"participant {args.participant!r} is unknown in study {study_id!r}: nothing "
                f"is recorded under this id (check it{hint}); --force withdraws it anyway, "
                "so that its later requests are refused"
            )
        earlier = await store.tombstone(study_id, tombstone_of(who))
        grave = await participants.withdraw(who, "cli")
        if earlier is not None:
            print(
                f"Participant {who} was already withdrawn on {earlier.withdrawn_at:%Y-%m-%d}; "
                f"tombstone {grave.subject}"
            )
            return
        print(
            f"Withdrew participant {who}: {grave.records_deleted} record(s) deleted; "
            f"tombstone {grave.subject}"
        )

    run_with_store(work, args)


def cmd_debrief(args: argparse.Namespace) -> None:
    async def work(store: Store) -> None:
        participants, who = await _participants(store, args)
        event = await participants.debrief(who, "cli")
        print(f"Participant {who} debriefed at {event.at.isoformat()}.")

    run_with_store(work, args)


def cmd_show(args: argparse.Namespace) -> None:
    async def work(store: Store) -> None:
        participants, who = await _participants(store, args)
        status = await participants.status(who)
        shown = status.model_dump(mode="json")
        # Their way through the participant page, if they took it: the code they were given.
        session = await store.get_page_session(participants.study.id, tombstone_of(who))
        shown["page_session"] = session.model_dump(mode="json") if session else None
        print(json.dumps(shown, indent=2))

    run_with_store(work, args)


def cmd_export(args: argparse.Namespace) -> None:
    async def work(store: Store) -> None:
        study = await served_study(store, args.study)
        manifest = await export_dataset(
            store, study, args.format, args.purpose, Path(args.out), args.include or []
        )
        excluded = sum(manifest.exclusions.values())
        print(
            f"Exported {manifest.records} record(s) of study {study.id!r} as {args.format} "
            f"for {args.purpose} to {args.out} ({excluded} excluded: "
            f"{json.dumps(manifest.exclusions)}; {manifest.withdrawn_participants} withdrawn)."
        )

    run_with_store(work, args)


def parse_time(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise CommandRefused(f"{value!r} is not an ISO 8601 time (say 2026-05-01T09:00)") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


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


def write_or_print(text: str, out: str | None) -> None:
    """A report to the file `out` (saying so), or to standard output."""
    if out:
        Path(out).write_text(text, encoding="utf-8")
        print(f"wrote {out}")
    else:
        print(text, end="")


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


def cmd_audit_verify(args: argparse.Namespace) -> None:
    async def work(store: Store) -> None:
        studies = [study_id_of(args.study)] if args.study else list(await store.audited_studies())
        broken = []
        for study_id in studies:
            report = verify_chain(study_id, await store.list_audit(study_id))
            state = "ok" if report.ok else "BROKEN"
            print(f"{study_id}: {state}, {report.entries} entries, head {report.head}")
            broken += [f"{study_id}: {problem}" for problem in report.problems]
        if broken:
            raise CommandRefused("the audit log was tampered with: " + "; ".join(broken))

    run_with_store(work, args)


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
        if name == "withdraw":
            action.add_argument(
                "--force",
                action="store_true",
                help="withdraw even a participant woz has no trace of (refuses their requests)",
            )

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

    audit = commands.add_parser("audit", help="the audit log")
    audit_actions = audit.add_subparsers(dest="audit_command", required=True)
    verify = audit_actions.add_parser("verify", help="check every study's hash chain")
    verify.add_argument("--study", help="only this study")
    verify.set_defaults(func=cmd_audit_verify)
