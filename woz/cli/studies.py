"""`woz studies list` and `woz studies reload`.

`list` reads the store: every study served from it, with its participants and keys,
and which running servers of this data folder serve it now. `reload` makes those
servers read their study files again (`woz.control`: SIGHUP, then each server's
report) and prints, study by study, what was applied and what was refused and why;
a refusal leaves the study as it was and makes the command exit with status 2.

`woz check` validates a study file and says what it sets up."""

from __future__ import annotations

import argparse
import json
from typing import Any

from woz.cli.common import CliError, load_study_file, run_with_store, settings_from
from woz.control import reload_servers, running_servers
from woz.export import load_definition
from woz.store.base import Store
from woz.study.summary import summary, warnings
from woz.text_table import aligned


def cmd_check(args: argparse.Namespace) -> None:
    study = load_study_file(args.study_file)
    print(f"{args.study_file} is a valid study.")
    lines = summary(study)
    width = max(len(topic) for topic, _ in lines)
    for topic, text in lines:
        print(f"  {topic:<{width}}  {text}")
    for warning in warnings(study):
        print(f"warning: {warning}")


def cmd_studies_list(args: argparse.Namespace) -> None:
    settings = settings_from(args)
    serving: dict[str, list[str]] = {}
    for server in running_servers(settings.data):
        for study in server.get("studies", []):
            serving.setdefault(study, []).append(str(server["pid"]))

    async def work(store: Store) -> None:
        rows: list[dict[str, Any]] = []
        for study_id in await store.served_studies():
            definition = await store.study_definition(study_id)
            title = load_definition(definition).title if definition else ""
            keys = [key for key in await store.list_keys(study_id) if key.revoked_at is None]
            rows.append(
                {
                    "id": study_id,
                    "title": title,
                    "participants": await store.participant_count(study_id),
                    "keys": len(keys),
                    "served_by_pids": serving.get(study_id, []),
                }
            )
        if args.json:
            for row in rows:
                print(json.dumps(row))
            return
        if not rows:
            print("No study has been served from this store yet.")
            return
        table = [["STUDY", "TITLE", "PARTICIPANTS", "KEYS", "SERVED NOW BY"]]
        table += [
            [
                row["id"],
                row["title"],
                str(row["participants"]),
                str(row["keys"]),
                ", ".join(f"pid {pid}" for pid in row["served_by_pids"]) or "-",
            ]
            for row in rows
        ]
        print("\n".join(aligned(table)))

    run_with_store(work, args)


def cmd_studies_reload(args: argparse.Namespace) -> None:
    data = settings_from(args).data
    results = reload_servers(data, timeout_s=args.timeout)
    if not results:
        raise CliError(
            f"no woz server is running from the data folder {data} (check --data); a server"
            " elsewhere reloads on SIGHUP"
        )
    refused = 0
    for pid, report in results.items():
        if report is None:
            print(f"pid {pid}: no answer within {args.timeout:g} s; see its log")
            refused += 1
            continue
        for entry in report:
            print(f"pid {pid}: {entry.line()}")
            refused += entry.outcome == "refused"
    if refused:
        raise CliError(f"{refused} change(s) refused; those studies stay as they were")


def add_study_commands(commands: Any) -> None:
    """Add `check` and `studies` to the `woz` command's subparsers."""
    check = commands.add_parser("check", help="validate a study file and say what it sets up")
    check.add_argument("study_file", metavar="STUDY", help="the study file (TOML)")
    check.set_defaults(func=cmd_check)

    studies = commands.add_parser("studies", help="the studies served: list, reload")
    actions = studies.add_subparsers(dest="studies_command", required=True, metavar="ACTION")
    listing = actions.add_parser("list", help="every study served from this store")
    listing.add_argument("--json", action="store_true", help="one JSON object per study")
    listing.set_defaults(func=cmd_studies_list)
    reload = actions.add_parser(
        "reload", help="make running servers re-read their study files (as SIGHUP does)"
    )
    reload.add_argument(
        "--timeout", type=float, default=30.0, help="seconds to wait for each server (30)"
    )
    reload.set_defaults(func=cmd_studies_reload)
