"""`woz records list|show|flag`: reviewing a study's records and flagging wizard errors."""

from __future__ import annotations

import argparse
from typing import Any

from woz.cli.common import CliError, run_with_store, served_study
from woz.cli.operators import operator_records
from woz.models.record import Record
from woz.store.base import Store
from woz.text_table import aligned


def cmd_flag_record(args: argparse.Namespace) -> None:
    async def work(store: Store) -> None:
        operators = await operator_records(store, args)
        note = None if args.clear else args.wizard_error
        await operators.flag_wizard_error(args.record, note, "cli")
        if note is None:
            print(f"Record {args.record} is no longer flagged.")
        else:
            print(f"Record {args.record} flagged as a wizard error: {note}")

    run_with_store(work, args)


def cmd_records_list(args: argparse.Namespace) -> None:
    async def work(store: Store) -> None:
        study = await served_study(store, args.study)
        records = await store.list_records(study.id)
        if args.json:
            for record in records:
                print(record.model_dump_json())
            return
        rows = [
            (
                "record",
                "received",
                "persona",
                "produced_by",
                "status",
                "operator",
                "asked",
                "wizard error",
            )
        ]
        for r in records:
            rows.append(
                (
                    r.id,
                    f"{r.timings.received_at:%Y-%m-%d %H:%M}",
                    r.persona,
                    r.produced_by.value if r.produced_by else "-",
                    r.status.value,
                    r.operator or "-",
                    _excerpt(_asked(r)),
                    _excerpt(r.wizard_error or "-"),
                )
            )
        print("\n".join(aligned(rows)))

    run_with_store(work, args)


def cmd_records_show(args: argparse.Namespace) -> None:
    async def work(store: Store) -> None:
        study = await served_study(store, args.study)
        record = await store.get_record(args.record)
        if record is None or record.study_id != study.id:
            raise CliError(f"study {study.id!r} has no record {args.record!r}")
        print(record.model_dump_json(indent=2))

    run_with_store(work, args)


def _asked(record: Record) -> str:
    """The participant's last message: what the answer answered."""
    users = [m for m in record.messages if m.role == "user"]
    if not users:
        return ""
    kinds = [part.type for part in users[-1].content if part.type != "text"]
    return users[-1].text() or (f"[{kinds[0]}]" if kinds else "")


def _excerpt(text: str, width: int = 40) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def add_record_commands(commands: Any) -> None:
    """Add `records` to the `woz` command's subparsers."""
    records = commands.add_parser("records", help="review records, flag wizard errors")
    record_actions = records.add_subparsers(dest="records_command", required=True)
    listed = record_actions.add_parser("list", help="the study's records, one line each")
    listed.add_argument("--study", required=True, help="study id (or study file)")
    listed.add_argument("--json", action="store_true", help="one JSON record per line")
    listed.set_defaults(func=cmd_records_list)
    show = record_actions.add_parser("show", help="one record, whole, as JSON")
    show.add_argument("--study", required=True, help="study id (or study file)")
    show.add_argument("record", help="the record id (rec_...)")
    show.set_defaults(func=cmd_records_show)
    flag = record_actions.add_parser("flag", help="flag a record as a wizard error, or clear it")
    flag.add_argument("--study", required=True, help="study id (or study file)")
    flag.add_argument("record", help="the record id (rec_..., as in exports)")
    why = flag.add_mutually_exclusive_group(required=True)
    why.add_argument("--wizard-error", metavar="WHY", help="why the answer was a wizard error")
    why.add_argument("--clear", action="store_true", help="remove the flag")
    flag.set_defaults(func=cmd_flag_record)
