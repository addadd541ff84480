"""`woz participants withdraw|debrief|show`: a participant's consent, debrief and
withdrawal, by the app's id for them (or woz's pseudonym with --pseudonym)."""

from __future__ import annotations

import argparse
import json
from typing import Any

from woz.cli.common import CliError, run_with_store, served_study, settings_from
from woz.media.files import MediaFolder
from woz.models.pseudonyms import tombstone_of
from woz.research.participants import Participants
from woz.store.base import Store


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
            raise CliError(
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


def add_participant_commands(commands: Any) -> None:
    """Add `participants` to the `woz` command's subparsers."""
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
