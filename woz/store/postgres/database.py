"""The PostgreSQL plumbing every table module shares: a connection pool, transactions,
advisory locks, and the delivery marks a read waits for.

Each call takes a connection from a `psycopg_pool.AsyncConnectionPool` and runs
in one transaction (committed when the block ends, rolled back on an error).
Sessions run in UTC, so every timestamp read is an aware UTC datetime.

Concurrency: PostgreSQL runs transactions at READ COMMITTED; where a write reads
before it writes (the audit chain, arm positions, withdrawal against records in
flight), the transaction first takes an advisory lock (`lock`), scoped to the
transaction, named by a purpose and a key. Locks taken in one order only
(participant, then study), so they cannot deadlock.
"""

from __future__ import annotations

import asyncio
import zlib
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import psycopg
from psycopg import AsyncConnection
from psycopg.conninfo import conninfo_to_dict
from psycopg.rows import DictRow, dict_row
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from woz.store.base import StoreUnavailable
from woz.store.media import MediaFiles
from woz.store.postgres.migrations import LOCK_CLASS, migrate

Connection = AsyncConnection[DictRow]

# Purposes of advisory locks (the lock's second key is a hash of the key named).
AUDIT_LOCK = 2
ARM_LOCK = 3
PARTICIPANT_LOCK = 4

OPEN_TIMEOUT_S = 10.0


def lock_key(purpose: int, *parts: str) -> int:
    """A 32-bit key for an advisory lock: `purpose` in the top bits, the parts hashed."""
    digest = zlib.crc32("\0".join(parts).encode())
    return ((purpose << 28) ^ digest) & 0x7FFFFFFF


async def lock(db: Connection, purpose: int, *parts: str, shared: bool = False) -> None:
    """Take a transaction-scoped advisory lock on (`purpose`, `parts`); another
    transaction taking the same lock waits until this one ends (shared locks wait
    only for exclusive ones)."""
    function = "pg_advisory_xact_lock_shared" if shared else "pg_advisory_xact_lock"
    await db.execute(f"SELECT {function}(%s, %s)", (LOCK_CLASS, lock_key(purpose, *parts)))


class PostgresDatabase:
    """A PostgreSQL database at `url`, through a pool of `pool_size` connections at most.

    Uploaded media are cached in `media_cache` (a local folder; the bytes live in
    the database). Table modules subclass this; `PostgresStore` combines them.
    """

    def __init__(self, url: str, media_cache: Path, pool_size: int = 10) -> None:
        self._url = url
        self._media = MediaFiles(media_cache)
        # Sessions in UTC, keeping whatever options the URL sets (a search_path, say).
        options = f"{conninfo_to_dict(url).get('options', '')} -c TimeZone=UTC".strip()
        self._pool = AsyncConnectionPool(
            url,
            min_size=1,
            max_size=pool_size,
            open=False,
            kwargs={"row_factory": dict_row, "options": options},
            connection_class=AsyncConnection[DictRow],
        )
        self._marks: set[asyncio.Future[None]] = set()

    async def open(self) -> None:
        # One connection first, so that a wrong URL or a server that is down is one clear
        # error now rather than the pool's retries until its timeout.
        try:
            probe = await AsyncConnection.connect(self._url, connect_timeout=int(OPEN_TIMEOUT_S))
        except psycopg.OperationalError as exc:
            # libpq's message, joined into one line (it never holds the password).
            reason = " ".join(str(exc).removeprefix("connection failed: ").split())
            raise StoreUnavailable(f"cannot connect to {self._where()}: {reason}") from None
        await probe.close()
        try:
            await self._pool.open(wait=True, timeout=OPEN_TIMEOUT_S)
        except PoolTimeout as exc:
            raise StoreUnavailable(
                f"{self._where()} did not accept a connection within {OPEN_TIMEOUT_S:g} s"
            ) from exc
        async with self._pool.connection() as db:
            await db.set_autocommit(True)
            try:
                await migrate(db)
            finally:
                await db.set_autocommit(False)

    def _where(self) -> str:
        """The server and database, for messages (never the password)."""
        where = conninfo_to_dict(self._url)
        server = f"{where.get('host', 'localhost')}:{where.get('port', 5432)}"
        return f"PostgreSQL at {server} (database {where.get('dbname', '?')!r})"

    async def close(self) -> None:
        await self._settle_marks()
        await self._pool.close()

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[Connection]:
        """A connection in a transaction, committed when the block ends without error."""
        async with self._pool.connection() as db:
            yield db

    async def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[DictRow]:
        async with self._transaction() as db:
            cursor = await db.execute(sql, params)
            return await cursor.fetchall()

    async def _execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run one statement in a transaction of its own; how many rows it changed."""
        async with self._transaction() as db:
            cursor = await db.execute(sql, params)
            return cursor.rowcount

    async def _mark(self, sql: str, params: Sequence[Any]) -> None:
        """`_execute` for a delivery mark: reads of records wait for the marks in flight."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._marks.add(done)
        try:
            await self._execute(sql, params)
        finally:
            self._marks.discard(done)
            done.set_result(None)

    async def _settle_marks(self) -> None:
        if self._marks:
            await asyncio.wait(list(self._marks))
