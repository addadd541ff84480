"""`woz export`: a dataset of a study's records under the export rules, with its card and
manifest (see `woz.export`)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from woz.cli.common import PURPOSES, run_with_store, served_study
from woz.export import FORMATS, INCLUDABLE, export_dataset
from woz.store.base import Store


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


def add_export_command(commands: Any) -> None:
    """Add `export` to the `woz` command's subparsers."""
    export = commands.add_parser("export", help="write a dataset, its card and manifest")
    export.add_argument("--study", required=True, help="study id (or study file)")
    export.add_argument("--format", required=True, choices=FORMATS)
    export.add_argument("--purpose", required=True, choices=PURPOSES)
    export.add_argument("--out", required=True, help="a new (or empty) folder")
    export.add_argument(
        "--include", action="append", choices=INCLUDABLE, help="also export these, flagged"
    )
    export.set_defaults(func=cmd_export)
