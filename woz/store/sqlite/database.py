"""The SQLite plumbing every table module shares: one thread, group commit.

All SQLite calls run on one dedicated thread, so the event loop never blocks on
disk. Writes queue up while the previous transaction commits and are then
committed together (group commit): each `commit_record` still returns only
after its own transaction is durable (`synchronous=FULL`), yet a burst of
answers costs one fsync, not one each.

A write whose caller is in no hurry (marking a record delivered) joins the next
group commit (`_write_later`); it starts no commit of its own before
`WRITE_BEHIND_S` has passed, so at a low request rate an answer and its delivery
mark share one fsync instead of taking one each. A read of what such writes
change first lets them commit (`_settle_writes`), and closing the store commits
whatever is queued.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from woz.store.sqlite.migrations import migrate

T = TypeVar("T")
Write = Callable[[sqlite3.Connection], None]

WRITE_BEHIND_S = 0.2  # the longest a write nobody waits for stays uncommitted


def now_text() -> str:
    """The current UTC time as stored: ISO 8601 text."""
    return datetime.now(UTC).isoformat()


class SQLiteDatabase:
    """A SQLite file in WAL mode; `path` may be `:memory:` for throwaway use.

    Table modules subclass this and use `_read` and `_write`; `SQLiteStore`
    combines them into the whole `Store`.
    """

    def __init__(self, path: Path | str, media: Path | None = None) -> None:
        self._path = str(path)
        # Uploaded media live beside the database file (a temporary folder for `:memory:`).
        self._media_root = (
            media
            if media is not None
            else (None if self._path == ":memory:" else Path(self._path).parent / "media")
        )
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="woz-sqlite")
        self._connection: sqlite3.Connection | None = None
        self._pending: list[tuple[Write, asyncio.Future[None]]] = []
        self._flusher: asyncio.Task[None] | None = None
        self._deferred_flush: asyncio.TimerHandle | None = None

    # -- lifecycle -----------------------------------------------------------

    async def open(self) -> None:
        if self._path != ":memory:":
            Path(self._path).parent.mkdir(parents=True, exist_ok=True)
        await self._on_thread(self._connect)

    def _connect(self) -> None:
        connection = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
        connection.row_factory = sqlite3.Row
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=FULL")
        connection.execute("PRAGMA foreign_keys=ON")
        connection.execute("PRAGMA busy_timeout=5000")
        migrate(connection)
        self._connection = connection

    async def close(self) -> None:
        await self._settle_writes()
        if self._flusher is not None:
            await self._flusher
        if self._connection is not None:
            await self._on_thread(self._connection.close)
            self._connection = None
        self._executor.shutdown(wait=True)

    # -- plumbing ------------------------------------------------------------

    async def _on_thread(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    def _db(self) -> sqlite3.Connection:
        if self._connection is None:
            raise RuntimeError("the store is not open")
        return self._connection

    async def _read(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        def run() -> list[sqlite3.Row]:
            return self._db().execute(sql, params).fetchall()

        return await self._on_thread(run)

    async def _settle_writes(self) -> None:
        """Commit the writes still queued, and wait for it (or for their failure).

        Reads need this only for tables that `_write_soon` changes: writes handed
        to the store thread already run before any read submitted after them.
        """
        if not self._pending:
            return
        self._start_flush()
        if self._flusher is not None and not self._flusher.done():
            await asyncio.shield(self._flusher)

    async def _write(self, write: Write) -> None:
        """Queue `write` for the next group commit and wait until it is durable."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue(write, future)
        await future

    async def _write_changes(self, sql: str, params: Sequence[Any]) -> int:
        """Commit one statement like `_write`; returns how many rows it changed (as last
        applied: a batch retried after a rollback runs it again)."""
        changed = 0

        def write(db: sqlite3.Connection) -> None:
            nonlocal changed
            changed = db.execute(sql, params).rowcount

        await self._write(write)
        return changed

    async def _write_later(self, write: Write) -> None:
        """Queue `write` for the next group commit, starting none for `WRITE_BEHIND_S`,
        and wait until it is durable. For writes whose caller is in no hurry."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue(write, future, soon=False)
        await future

    def _queue(self, write: Write, future: asyncio.Future[None], soon: bool = True) -> None:
        self._pending.append((write, future))
        if soon:
            self._start_flush()
        elif self._deferred_flush is None:
            loop = asyncio.get_running_loop()
            self._deferred_flush = loop.call_later(WRITE_BEHIND_S, self._start_flush)

    def _start_flush(self) -> None:
        """Commit what is queued now, unless a commit is running (it takes the queue next)."""
        if self._deferred_flush is not None:
            self._deferred_flush.cancel()
            self._deferred_flush = None
        if self._pending and (self._flusher is None or self._flusher.done()):
            self._flusher = asyncio.create_task(self._flush())

    async def _flush(self) -> None:
        while self._pending:
            batch, self._pending = self._pending, []
            try:
                errors = await self._on_thread(self._apply, [write for write, _ in batch])
            except Exception as exc:  # the COMMIT itself failed: nothing in the batch is durable
                errors = [exc] * len(batch)
            for (_, future), error in zip(batch, errors, strict=True):
                if future.done():
                    continue
                elif error is None:
                    future.set_result(None)
                else:
                    future.set_exception(error)

    def _apply(self, writes: list[Write]) -> list[Exception | None]:
        """Commit `writes` in one transaction; a write that fails is undone alone.

        Tried first without savepoints (a few statements fewer per write on the
        busiest path); if any write fails, the batch is rolled back and applied
        again with a savepoint around each write. Writes only touch the database,
        so running one twice after a rollback is safe.
        """
        db = self._db()
        db.execute("BEGIN IMMEDIATE")
        try:
            for write in writes:
                write(db)
            db.execute("COMMIT")
        except Exception:
            if db.in_transaction:
                db.execute("ROLLBACK")
            return self._apply_isolated(writes)
        return [None] * len(writes)

    def _apply_isolated(self, writes: list[Write]) -> list[Exception | None]:
        db = self._db()
        errors: list[Exception | None] = []
        db.execute("BEGIN IMMEDIATE")
        try:
            for write in writes:
                db.execute("SAVEPOINT one")
                try:
                    write(db)
                except Exception as exc:
                    db.execute("ROLLBACK TO one")
                    errors.append(exc)
                else:
                    errors.append(None)
                db.execute("RELEASE one")
            db.execute("COMMIT")
        except Exception:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
        return errors
