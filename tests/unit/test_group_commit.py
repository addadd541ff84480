"""The store's group commit: writes queued together commit together, a failing
write is undone alone, and writes in no hurry ride with the next commit."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from woz.store.sqlite.database import WRITE_BEHIND_S, SQLiteDatabase


class Notes(SQLiteDatabase):
    async def add(self, text: str) -> None:
        def insert(db: sqlite3.Connection) -> None:
            if text == "bad":
                raise ValueError("refused")
            db.execute("INSERT INTO notes (text) VALUES (?)", (text,))

        await self._write(insert)

    async def add_later(self, text: str) -> None:
        await self._write_later(
            lambda db: db.execute("INSERT INTO notes (text) VALUES (?)", (text,))
        )

    async def texts(self) -> list[str]:
        await self._settle_writes()  # as the records' reads do: `add_later` waits a while
        return [row["text"] for row in await self._read("SELECT text FROM notes ORDER BY rowid")]


@pytest.fixture
async def notes(tmp_path: Path) -> AsyncIterator[Notes]:
    database = Notes(tmp_path / "notes.sqlite3")
    await database.open()
    await database._write(lambda db: db.execute("CREATE TABLE notes (text TEXT)"))
    yield database
    await database.close()


async def test_a_failing_write_is_undone_alone(notes: Notes) -> None:
    outcomes = await asyncio.gather(
        notes.add("first"), notes.add("bad"), notes.add("third"), return_exceptions=True
    )
    assert [type(o).__name__ for o in outcomes] == ["NoneType", "ValueError", "NoneType"]
    assert await notes.texts() == ["first", "third"]


async def test_a_write_in_no_hurry_is_seen_by_a_read_that_settles_writes(
    notes: Notes, tmp_path: Path
) -> None:
    """The read does not wait out the write-behind delay: it commits the queue."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    await asyncio.gather(notes.add_later("queued"), notes.texts())
    assert await notes.texts() == ["queued"]
    assert loop.time() - started < WRITE_BEHIND_S


async def test_a_write_in_no_hurry_rides_with_the_next_durable_one(
    notes: Notes, tmp_path: Path
) -> None:
    """Queued without a commit of its own, it is durable once the next awaited write is."""
    later = asyncio.ensure_future(notes.add_later("delivery mark"))
    await notes.add("next answer")
    with sqlite3.connect(tmp_path / "notes.sqlite3") as outside:
        rows = outside.execute("SELECT text FROM notes ORDER BY rowid").fetchall()
    assert sorted(rows) == [("delivery mark",), ("next answer",)]
    await later


async def test_a_write_in_no_hurry_is_durable_when_it_returns(tmp_path: Path) -> None:
    path = tmp_path / "notes.sqlite3"
    database = Notes(path)
    await database.open()
    await database._write(lambda db: db.execute("CREATE TABLE notes (text TEXT)"))
    await database.add_later("last words")
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT text FROM notes").fetchall() == [("last words",)]
    await database.close()
