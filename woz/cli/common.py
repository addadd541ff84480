"""What every command shares: settings from options and the environment, the store,
naming a study by id or file, and the one error a command ends with.

Commands that work on the store (SQLite in the data folder, or PostgreSQL at
--database-url) run with or without a server running. The rules a study was run
under (permitted uses, debrief policy, pay rate...) are the definition it was last
served with, which `woz serve` keeps in the store; `--study` takes the study id, or
its file (for its id). A study never served from this store is refused.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

from pydantic import ValidationError

from woz.config import Settings
from woz.export import ExportRefused, load_definition
from woz.models.study import Study
from woz.research.consent import ConsentRefused
from woz.research.operators import RecordRefused
from woz.research.participants import NotAllowed
from woz.store.base import Store
from woz.store.factory import store_for
from woz.study import StudyFileError, load_study


class CliError(Exception):
    """A problem with the user's input, or a command refused: printed as is, as one line
    `woz: ...`, with exit status 2."""


def load_study_file(path: str) -> Study:
    """The study in the file at `path`; a bad file is a `CliError` naming the problem."""
    try:
        return load_study(Path(path))
    except StudyFileError as exc:
        raise CliError(str(exc)) from exc


PURPOSES = (
    "in_study_analysis",
    "publication_excerpts",
    "internal_model_training",
    "public_dataset_release",
    "commercial_use",
)


# The options a command line may set, by the name of the setting each one sets.
_OPTIONS = ("data", "database_url", "redis_url", "host", "port")


def settings_from(args: argparse.Namespace) -> Settings:
    """The settings: the environment's (`WOZ_...`), with the options given on top."""
    given = {
        name: getattr(args, name) for name in _OPTIONS if getattr(args, name, None) is not None
    }
    try:
        return Settings(**given)
    except ValidationError as exc:
        problems = "; ".join(
            f"{_option_name(error['loc'])}: {error['msg'].removeprefix('Value error, ')}"
            for error in exc.errors()
        )
        raise CliError(problems) from None


def _option_name(location: tuple[int | str, ...]) -> str:
    name = str(location[0]) if location else "setting"
    return f"--{name.replace('_', '-')} (or WOZ_{name.upper()})"


def _store(args: argparse.Namespace) -> Store:
    return store_for(settings_from(args))


def study_id_of(value: str) -> str:
    if value.endswith(".toml"):
        try:
            return load_study(Path(value)).id
        except StudyFileError as exc:
            raise CliError(str(exc)) from exc
    return value


async def served_study(store: Store, value: str) -> Study:
    study_id = study_id_of(value)
    definition = await store.study_definition(study_id)
    if definition is None:
        raise CliError(
            f"study {study_id!r} has never been served from this store; check --data"
            " (or --database-url), or serve it once (woz serve) so woz knows its rules"
        )
    return load_definition(definition)


def run_with_store(work: Callable[[Store], Awaitable[None]], args: argparse.Namespace) -> None:
    async def main() -> None:
        store = _store(args)
        await store.open()
        try:
            await work(store)
        finally:
            await store.close()

    try:
        asyncio.run(main())
    except (ExportRefused, NotAllowed, ConsentRefused, RecordRefused) as exc:
        raise CliError(str(exc)) from exc


def parse_time(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise CliError(f"{value!r} is not an ISO 8601 time (say 2026-05-01T09:00)") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def write_or_print(text: str, out: str | None) -> None:
    """A report to the file `out` (saying so), or to standard output."""
    if out:
        Path(out).write_text(text, encoding="utf-8")
        print(f"wrote {out}")
    else:
        print(text, end="")
