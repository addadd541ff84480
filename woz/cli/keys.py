"""`woz keys create|list|revoke`: the keys of each study, created, listed and taken back.

A key belongs to one study and opens only it. `create` prints the token once (woz
keeps only its hash) and, for operators and researchers, the login link of their
page. A revoked key opens nothing from then on: API requests with it get the
dialect's 401, its console and watch sessions end, and every running server stops
accepting it once its short cache of verified keys lapses (`WOZ_KEY_CACHE_S`, 2 s by
default). Revocations are written to the study's audit log. Tokens are never shown
again: a key is named by its id (`key_...`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
from typing import Any

from woz.auth.tokens import create_key
from woz.cli.common import CliError, load_study_file, run_with_store, settings_from, study_id_of
from woz.config import Settings
from woz.models.keys import KeyInfo, KeyRole
from woz.models.study import Study
from woz.store.base import Store
from woz.store.factory import store_for
from woz.text_table import aligned
from woz.web.console import OPERATOR_LOGIN
from woz.web.watch import RESEARCHER_LOGIN


async def new_key(
    settings: Settings, study: Study | str, role: KeyRole, name: str
) -> tuple[str, str, str]:
    """A key for `study`, as (study id, key id, token): a study loaded from its file, or
    the id of one served from this data folder (a key for no study would open nothing)."""
    store = store_for(settings)
    await store.open()
    try:
        if isinstance(study, Study):
            study_id = study.id
        else:
            study_id = study
            await _require_served(store, study_id, settings)
        info, token = await create_key(store, study_id, role, name)
    finally:
        await store.close()
    return study_id, info.id, token


async def _require_served(store: Store, study_id: str, settings: Settings) -> None:
    served = await store.served_studies()
    if study_id in served:
        return
    where = "this database" if settings.database_url else f"the data folder {settings.data}"
    known = (
        f"studies served from {where}: {', '.join(served)}"
        if served
        else f"no study has been served from {where} yet"
    )
    raise CliError(
        f"no study {study_id!r} ({known}); give its study file (--study FILE), or check"
        " --data (or --database-url)"
    )


# Where each role's key logs a browser in (the API key of an app logs nothing in).
LOGIN_PAGES = {
    "operator": ("Operator console", OPERATOR_LOGIN),
    "researcher": ("Watch view", RESEARCHER_LOGIN),
}


def cmd_keys_create(args: argparse.Namespace) -> None:
    settings = settings_from(args)
    study: Study | str = load_study_file(args.study) if args.study.endswith(".toml") else args.study
    base, guessed = _login_base(args.base_url, settings)
    name = args.name or args.role
    study_id, key_id, token = asyncio.run(new_key(settings, study, args.role, name))
    page, login = LOGIN_PAGES.get(args.role, (None, None))
    link = f"{base}{login.login_path}?token={token}" if login else None
    if args.json:
        created = {"id": key_id, "role": args.role, "study": study_id, "token": token}
        print(json.dumps(created | ({"login_url": link} if link else {})))
        return
    print(f"Created {args.role} key {key_id} for study {study_id!r}.")
    print("Its token is shown only this once; woz keeps only a hash of it:")
    print(token)
    if link:
        print(f"{page}: open {link}")
        if guessed:
            print(
                f"({base} is where `woz serve` listens unless told otherwise; if browsers "
                "reach woz at another address, give it with --base-url URL or WOZ_PUBLIC_URL)"
            )


def _login_base(flag: str | None, settings: Settings) -> tuple[str, bool]:
    """The address browsers reach woz at, and whether it is only a guess: --base-url,
    else WOZ_PUBLIC_URL, else where `woz serve` listens by default (or as WOZ_HOST and
    WOZ_PORT say)."""
    given = flag or settings.public_url
    if given:
        if not given.startswith(("http://", "https://")):
            source = "--base-url" if flag else "WOZ_PUBLIC_URL"
            raise CliError(f"{source} must start with http:// or https:// (got {given!r})")
        return given.rstrip("/").removesuffix("/v1"), False
    host = "127.0.0.1" if settings.host in ("0.0.0.0", "::", "") else settings.host
    return f"http://{host}:{settings.port}", True


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
            raise CliError(f"no key {args.key!r} in this store; `woz keys list` shows them")
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


def add_key_commands(commands: Any) -> None:
    """Add `keys` to the `woz` command's subparsers."""
    keys = commands.add_parser("keys", help="manage keys").add_subparsers(
        dest="keys_command", required=True, metavar="ACTION"
    )
    create = keys.add_parser("create", help="create a key and print its token once")
    create.add_argument("--study", required=True, help="study id (or study file)")
    create.add_argument("--role", required=True, choices=["app", "operator", "researcher"])
    create.add_argument("--name", help="a label, such as the operator's display name")
    create.add_argument("--json", action="store_true", help="print one JSON object")
    create.add_argument(
        "--base-url",
        metavar="URL",
        help="where browsers reach woz, for the login link (default WOZ_PUBLIC_URL, "
        "else http://127.0.0.1:8000)",
    )
    create.set_defaults(func=cmd_keys_create)

    listing = keys.add_parser("list", help="the keys of a study (or of every study)")
    listing.add_argument("--study", help="only this study (id or study file)")
    listing.add_argument("--json", action="store_true", help="one JSON object per key")
    listing.set_defaults(func=cmd_keys_list)
    revoke = keys.add_parser("revoke", help="revoke a key: it opens nothing from then on")
    revoke.add_argument("key", help="the key's id (key_..., as `woz keys list` shows)")
    revoke.set_defaults(func=cmd_keys_revoke)
