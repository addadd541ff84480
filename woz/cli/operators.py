"""The commands about operators beyond their work, and the records they produce:
`woz operators list|consent|train` and `woz records list|show|flag` (reviewing the
data and flagging wizard errors). Like the other research commands they work on
the store (data folder or database URL), with or without a server running."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from typing import Any

from woz.cli.research import PURPOSES, CommandRefused, parse_time, run_with_store, served_study
from woz.models.record import Record
from woz.research.operators import OperatorRecords
from woz.store.base import Store
from woz.text_table import aligned


async def operator_records(store: Store, args: argparse.Namespace) -> OperatorRecords:
    study = await served_study(store, args.study)
    return OperatorRecords(store, study, await store.study_secret(study.id, study.title))


def cmd_operator_consent(args: argparse.Namespace) -> None:
    async def work(store: Store) -> None:
        consents = await operator_records(store, args)
        key = await consents.find(args.operator)
        scopes = None if args.all_permitted else (args.scope or [])
        consent = await consents.record(key, scopes, args.method, "cli")
        uses = ", ".join(consent.scopes) or "no use (consent withdrawn)"
        print(
            f"Recorded operator {key.name or key.id} ({consent.subject})'s consent to reuse "
            f"agreement version {consent.version}: {uses}."
        )

    run_with_store(work, args)


def cmd_operator_list(args: argparse.Namespace) -> None:
    async def work(store: Store) -> None:
        consents = await operator_records(store, args)
        in_force = await consents.in_force()
        trainings = await consents.trainings()
        rows = [("key", "name", "pseudonym", "trained", "reuse consent")]
        for key in await consents.operators():
            alias = consents.pseudonym_of(key)
            consent = in_force.get(alias)
            given = (
                f"v{consent.version} {consent.granted_at:%Y-%m-%d}: "
                + (", ".join(consent.scopes) or "none")
                if consent
                else "not recorded"
            )
            training = trainings.get(alias)
            trained = f"{training.trained_at:%Y-%m-%d}" if training else "-"
            rows.append((key.id, key.name, alias, trained, given))
        print("\n".join(aligned(rows)))

    run_with_store(work, args)


def cmd_operator_train(args: argparse.Namespace) -> None:
    async def work(store: Store) -> None:
        operators = await operator_records(store, args)
        key = await operators.find(args.operator)
        at = parse_time(args.at) or datetime.now(UTC)
        training = await operators.record_training(key, at, args.note, "cli")
        print(
            f"Recorded that operator {key.name or key.id} ({training.operator}) was trained "
            f"on {training.trained_at:%Y-%m-%d}: {training.note}"
        )

    run_with_store(work, args)


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
            raise CommandRefused(f"study {study.id!r} has no record {args.record!r}")
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


def add_operator_commands(commands: Any) -> None:
    """Add `operators` and `records` to the `woz` command's subparsers."""
    operators = commands.add_parser("operators", help="operators: their reuse consent and training")
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
    train = operator_actions.add_parser("train", help="record that an operator was trained")
    train.add_argument("--study", required=True, help="study id (or study file)")
    train.add_argument("operator", help="the operator's key id or name")
    train.add_argument("--note", required=True, help="what the training was")
    train.add_argument("--at", help="when (ISO 8601; default: now)")
    train.set_defaults(func=cmd_operator_train)

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
