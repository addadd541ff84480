"""`woz keys list` and `woz keys revoke`: the keys of each study, and taking one back.

A revoked key opens nothing from then on: API requests with it get the dialect's
401, its console and watch sessions end, and every running server stops accepting it
once its short cache of verified keys lapses (`WOZ_KEY_CACHE_S`, 2 s by default).
Revocations are written to the study's audit log. Tokens are never shown again: a
key is named by its id (`key_...`), which `woz keys create` prints.
"""

from __future__ import annotations

import argparse
from typing import Any

from woz.cli.research import CommandRefused, run_with_store, study_id_of
from woz.models.keys import KeyInfo
from woz.store.base import Store
from woz.text_table import aligned


def _when(key: KeyInfo) -> str:
    return key.revoked_at.isoformat(timespec="seconds") if key.revoked_at else "-"


def cmd_keys_list(args: argparse.Namespace) -> None:
    async def work(store: Store) -> None:
        study = study_id_of(args.study) if args.study else None
        keys = await store.list_keys(study)
        if args.json:
            for key in keys:
                print(key.model_dump_json())
            return
        if not keys:
            print(f"No keys for study {study!r}." if study else "No keys yet.")
            return
        rows = [["ID", "STUDY", "ROLE", "NAME", "CREATED", "REVOKED"]]
        rows += [
            [k.id, k.study_id, k.role, k.name, k.created_at.isoformat(timespec="seconds"), _when(k)]
            for k in keys
        ]
        print("\n".join(aligned(rows)))

    run_with_store(work, args)


def cmd_keys_revoke(args: argparse.Namespace) -> None:
    async def work(store: Store) -> None:
        before = {key.id: key for key in await store.list_keys(None)}.get(args.key)
        if before is None:
            raise CommandRefused(f"no key {args.key!r} in this store; `woz keys list` shows them")
        if before.revoked_at is not None:
            print(
                f"Key {before.id} ({before.role}, study {before.study_id!r}) was already"
                f" revoked at {_when(before)}."
            )
            return
        revoked = await store.revoke_key(args.key)
        assert revoked is not None
        await store.append_audit(
            revoked.study_id, "cli", "key.revoked", revoked.id, {"role": revoked.role}
        )
        print(
            f"Revoked {revoked.role} key {revoked.id} ({revoked.name!r}) of study"
            f" {revoked.study_id!r}; running servers refuse it within seconds."
        )

    run_with_store(work, args)


def add_key_commands(keys: Any) -> None:
    """Add `list` and `revoke` to the `woz keys` subparsers."""
    listing = keys.add_parser("list", help="the keys of a study (or of every study)")
    listing.add_argument("--study", help="only this study (id or study file)")
    listing.add_argument("--json", action="store_true", help="one JSON object per key")
    listing.set_defaults(func=cmd_keys_list)
    revoke = keys.add_parser("revoke", help="revoke a key: it opens nothing from then on")
    revoke.add_argument("key", help="the key's id (key_..., as `woz keys list` shows)")
    revoke.set_defaults(func=cmd_keys_revoke)


__all__ = ["add_key_commands"]
