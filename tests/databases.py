"""The PostgreSQL the tests use: one database of this run's own, one schema per test.

The server comes from `WOZ_TEST_DATABASE_URL` (default
`postgresql://postgres@127.0.0.1/test`). The run's database has a random name, is
created at first use and dropped when the session ends (`drop_run_database`,
called by `tests/conftest.py`); nothing else on the server is touched. A server
that does not answer fails the test with how to start it, never skips it.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import sqlite3
from collections.abc import Iterator

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict
from yarl import URL

from woz.config import Settings

SERVER_URL = os.environ.get("WOZ_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1/test")
START_HINT = (
    "start it with: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"
    " (see SERVICES.md), or point WOZ_TEST_DATABASE_URL at another server"
)

_run_database: str | None = None


def _connect(conninfo: str) -> psycopg.Connection[tuple[object, ...]]:
    try:
        return psycopg.connect(conninfo, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        where = conninfo_to_dict(conninfo)
        server = f"{where.get('host', 'localhost')}:{where.get('port', 5432)}"
        pytest.fail(f"PostgreSQL at {server} is not answering ({exc}); {START_HINT}")


def run_database_url() -> str:
    """The URL of this run's own database, created on first use."""
    global _run_database
    if _run_database is None:
        name = f"woz_test_{secrets.token_hex(6)}"
        with _connect(SERVER_URL) as server:
            server.execute(f'CREATE DATABASE "{name}"')  # a random name of ours: no quoting risk
        _run_database = name
    return str(URL(SERVER_URL).with_path(f"/{_run_database}"))


def drop_run_database() -> None:
    """Drop this run's database, if one was made (the end of the session)."""
    global _run_database
    if _run_database is not None:
        with _connect(SERVER_URL) as server:
            server.execute(f'DROP DATABASE IF EXISTS "{_run_database}" WITH (FORCE)')
        _run_database = None


@contextlib.contextmanager
def fresh_schema() -> Iterator[str]:
    """A URL whose connections see only a new, empty schema of the run's database;
    the schema is dropped afterwards."""
    database = run_database_url()
    schema = f"t_{secrets.token_hex(6)}"
    with _connect(database) as db:
        db.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"{database}?options=-c%20search_path%3D{schema}"  # libpq reads no '+' as space
    finally:
        with _connect(database) as db:
            db.execute(f'DROP SCHEMA "{schema}" CASCADE')


def suite_backend() -> str:
    """The backend the whole suite runs on: `WOZ_TEST_STORE` (sqlite or postgres)."""
    backend = os.environ.get("WOZ_TEST_STORE", "sqlite")
    if backend not in ("sqlite", "postgres"):
        raise ValueError(f"WOZ_TEST_STORE is {backend!r}; use sqlite or postgres")
    return backend


def run_sql(settings: Settings, sql: str) -> None:
    """Run one statement on the store's database around the store (as someone with
    direct access to the database could); raises the driver's error."""
    if settings.database_url is None:
        with contextlib.closing(sqlite3.connect(settings.database)) as db, db:
            db.execute(sql)
        return
    with psycopg.connect(settings.database_url, autocommit=True) as db:
        db.execute(sql.encode())
