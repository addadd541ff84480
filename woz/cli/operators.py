"""`woz operators list|consent|train`: a study's operators (by pseudonym), their consent
to the reuse of their text, and their training."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from typing import Any

from woz.cli.common import PURPOSES, parse_time, run_with_store, served_study
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


def add_operator_commands(commands: Any) -> None:
    """Add `operators` to the `woz` command's subparsers."""
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
