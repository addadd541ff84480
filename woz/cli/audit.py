"""`woz audit verify`: check every study's hash-chained audit log, and print its head
(note it elsewhere: only a noted head shows that the last entries were cut off)."""

from __future__ import annotations

import argparse
from typing import Any

from woz.cli.common import CliError, run_with_store, study_id_of
from woz.research.audit import verify_chain
from woz.store.base import Store


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
            raise CliError("the audit log was tampered with: " + "; ".join(broken))

    run_with_store(work, args)


def add_audit_commands(commands: Any) -> None:
    """Add `audit` to the `woz` command's subparsers."""
    audit = commands.add_parser("audit", help="the audit log")
    audit_actions = audit.add_subparsers(dest="audit_command", required=True)
    verify = audit_actions.add_parser("verify", help="check every study's hash chain")
    verify.add_argument("--study", help="only this study")
    verify.set_defaults(func=cmd_audit_verify)
