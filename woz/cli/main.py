"""The `woz` command: its global options, and a subcommand per noun (each in its module).

Logging is configured here and only here. Bad input (a study file, an argument) ends
with one line naming the problem and exit status 2, never a traceback. Global options
(--data, --database-url, --redis-url, --log-level) work before or after the subcommand.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from woz.cli.audit import add_audit_commands
from woz.cli.common import CliError, settings_from
from woz.cli.export import add_export_command
from woz.cli.keys import add_key_commands
from woz.cli.operators import add_operator_commands
from woz.cli.participants import add_participant_commands
from woz.cli.records import add_record_commands
from woz.cli.report import add_report_commands
from woz.cli.serve import add_serve_commands
from woz.cli.studies import add_study_commands
from woz.logging import configure_logging
from woz.store.base import StoreUnavailable


def _add_global_options(parser: argparse.ArgumentParser, default: object) -> None:
    parser.add_argument(
        "--data", type=Path, default=default, help="data folder (default .woz, or WOZ_DATA)"
    )
    parser.add_argument(
        "--database-url",
        metavar="URL",
        default=default,
        help="PostgreSQL database shared by every woz process, postgresql://... (or"
        " WOZ_DATABASE_URL; default: SQLite in the data folder)",
    )
    parser.add_argument(
        "--redis-url",
        metavar="URL",
        default=default,
        help="Redis shared by every woz process's dispatcher, redis://... (or WOZ_REDIS_URL;"
        " default: the dispatcher's state stays in this process)",
    )
    parser.add_argument("--log-level", default=default, help="debug, info, warning or error")


class _Subcommand(argparse.ArgumentParser):
    """A subcommand's parser (at any depth): it takes the global options too, so they
    may come before or after the subcommand. Their default is to set nothing, so a value
    given before the subcommand is not overwritten by the subcommand's default."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _add_global_options(self, argparse.SUPPRESS)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="woz", description="Wizard-of-Oz prototyping: an AI API answered by people."
    )
    _add_global_options(parser, None)
    commands = parser.add_subparsers(
        dest="command", required=True, metavar="COMMAND", parser_class=_Subcommand
    )

    add_serve_commands(commands)
    add_study_commands(commands)
    add_key_commands(commands)
    add_participant_commands(commands)
    add_export_command(commands)
    add_report_commands(commands)
    add_audit_commands(commands)
    add_operator_commands(commands)
    add_record_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    for attr in ("host", "port"):
        if not hasattr(args, attr):
            setattr(args, attr, None)
    try:
        configure_logging(args.log_level or settings_from(args).log_level)
        args.func(args)
    except (CliError, StoreUnavailable) as exc:
        print(f"woz: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 0
