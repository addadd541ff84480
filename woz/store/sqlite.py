"""The embedded store: one SQLite file in WAL mode, written with group commit.

All SQLite calls run on one dedicated thread, so the event loop never blocks on
disk. Writes queue up while the previous transaction commits and are then
committed together (group commit): each `commit_record` still returns only
after its own transaction is durable (`synchronous=FULL`), yet a burst of
answers costs one fsync, not one each.
"""

from __future__ import annotations

import asyncio
import secrets
import sqlite3
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from woz.models.keys import KeyInfo, KeyRole
from woz.models.record import Record, RecordStatus
from woz.store.migrations import migrate

T = TypeVar("T")
Write = Callable[[sqlite3.Connection], None]


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _key(row: sqlite3.Row) -> KeyInfo:
    return KeyInfo(
        id=row["id"],
        study_id=row["study_id"],
        role=row["role"],
        name=row["name"],
        created_at=datetime.fromisoformat(row["created_at"]),
    )


class SQLiteStore:
    """`Store` on a SQLite file; `path` may be `:memory:` for throwaway use."""

    def __init__(self, path: Path | str) -> None:
        self._path = str(path)
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="woz-sqlite")
        self._connection: sqlite3.Connection | None = None
        self._pending: list[tuple[Write, asyncio.Future[None]]] = []
        self._flusher: asyncio.Task[None] | None = None

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

    async def _write(self, write: Write) -> None:
        """Queue `write` for the next group commit and wait until it is durable."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append((write, future))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush())
        await future

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
                if error is None:
                    future.set_result(None)
                else:
                    future.set_exception(error)

    def _apply(self, writes: list[Write]) -> list[Exception | None]:
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

    # -- studies and keys ----------------------------------------------------

    async def study_secret(self, study_id: str, title: str) -> bytes:
        fresh = secrets.token_bytes(32)

        def upsert(db: sqlite3.Connection) -> None:
            db.execute(
                "INSERT INTO studies (id, title, secret, created_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (id) DO UPDATE SET title = excluded.title",
                (study_id, title, fresh, _now()),
            )

        await self._write(upsert)
        rows = await self._read("SELECT secret FROM studies WHERE id = ?", (study_id,))
        return bytes(rows[0]["secret"])

    async def add_key(
        self, key_id: str, study_id: str, role: KeyRole, name: str, token_hash: str
    ) -> KeyInfo:
        created = _now()

        def insert(db: sqlite3.Connection) -> None:
            db.execute(
                "INSERT INTO keys (id, study_id, role, name, token_hash, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (key_id, study_id, role, name, token_hash, created),
            )

        await self._write(insert)
        return KeyInfo(
            id=key_id,
            study_id=study_id,
            role=role,
            name=name,
            created_at=datetime.fromisoformat(created),
        )

    async def key_by_hash(self, token_hash: str) -> KeyInfo | None:
        rows = await self._read(
            "SELECT * FROM keys WHERE token_hash = ? AND revoked_at IS NULL", (token_hash,)
        )
        return _key(rows[0]) if rows else None

    async def list_keys(self, study_id: str) -> Sequence[KeyInfo]:
        rows = await self._read(
            "SELECT * FROM keys WHERE study_id = ? ORDER BY created_at", (study_id,)
        )
        return [_key(row) for row in rows]

    async def add_console_session(
        self, session_hash: str, key_id: str, expires_at: datetime
    ) -> None:
        def insert(db: sqlite3.Connection) -> None:
            db.execute(
                "INSERT INTO console_sessions (session_hash, key_id, expires_at) VALUES (?, ?, ?)",
                (session_hash, key_id, expires_at.isoformat()),
            )

        await self._write(insert)

    async def console_session(self, session_hash: str) -> KeyInfo | None:
        rows = await self._read(
            "SELECT keys.* FROM console_sessions JOIN keys ON keys.id = console_sessions.key_id "
            "WHERE session_hash = ? AND expires_at > ? AND keys.revoked_at IS NULL",
            (session_hash, _now()),
        )
        return _key(rows[0]) if rows else None

    # -- records -------------------------------------------------------------

    async def commit_record(self, record: Record) -> None:
        body = record.model_dump_json()

        def upsert(db: sqlite3.Connection) -> None:
            db.execute(
                "INSERT OR REPLACE INTO records (id, task_id, study_id, persona, conversation_id,"
                " participant, operator, produced_by, status, received_at, body)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    record.id,
                    record.task_id,
                    record.study_id,
                    record.persona,
                    record.conversation_id,
                    record.participant,
                    record.operator,
                    record.produced_by,
                    record.status,
                    record.timings.received_at.isoformat(),
                    body,
                ),
            )

        await self._write(upsert)

    async def set_record_status(
        self, record_id: str, status: RecordStatus, delivered_at: datetime | None = None
    ) -> None:
        delivered = delivered_at.isoformat() if delivered_at else None

        def update(db: sqlite3.Connection) -> None:
            db.execute(
                "UPDATE records SET status = ?, body = json_set(body, '$.status', ?,"
                " '$.timings.delivered_at', ?) WHERE id = ?",
                (status, status, delivered, record_id),
            )

        await self._write(update)

    async def get_record(self, record_id: str) -> Record | None:
        rows = await self._read("SELECT body FROM records WHERE id = ?", (record_id,))
        return Record.model_validate_json(rows[0]["body"]) if rows else None

    async def list_records(self, study_id: str) -> Sequence[Record]:
        rows = await self._read(
            "SELECT body FROM records WHERE study_id = ? ORDER BY received_at", (study_id,)
        )
        return [Record.model_validate_json(row["body"]) for row in rows]

    # -- Responses API conversations -------------------------------------------

    async def save_response(
        self, response_id: str, study_id: str, participant: str | None, items_json: str
    ) -> None:
        def insert(db: sqlite3.Connection) -> None:
            db.execute(
                "INSERT INTO responses (id, study_id, participant, created_at, items)"
                " VALUES (?, ?, ?, ?, ?)",
                (response_id, study_id, participant, _now(), items_json),
            )

        await self._write(insert)

    async def get_response(self, response_id: str, study_id: str) -> str | None:
        rows = await self._read(
            "SELECT items FROM responses WHERE id = ? AND study_id = ?", (response_id, study_id)
        )
        return str(rows[0]["items"]) if rows else None
