"""A store written by an older woz opens with every migration applied, its data intact."""

from __future__ import annotations

import asyncio
import sqlite3
from contextlib import closing
from pathlib import Path

from tests.unit.records import T0, make_record
from woz.store.sqlite import SQLiteStore
from woz.store.sqlite.migrations import MIGRATIONS


def _old_store(path: Path, version: int) -> None:
    """A database as woz left it at schema `version`."""
    db = sqlite3.connect(path, isolation_level=None)
    for number, script in enumerate(MIGRATIONS[:version], start=1):
        db.executescript(f"BEGIN;\n{script}\nPRAGMA user_version = {number};\nCOMMIT;")
    db.execute(
        "INSERT INTO responses (id, study_id, participant, created_at, items)"
        " VALUES ('resp_old', 's', NULL, '2026-01-01T00:00:00+00:00', '{\"messages\": []}')"
    )
    db.close()


async def test_a_response_stored_before_objects_were_kept_still_continues(
    tmp_path: Path,
) -> None:
    """Its conversation can still be continued; it has no object to retrieve."""
    path = tmp_path / "woz.sqlite3"
    _old_store(path, version=5)
    store = SQLiteStore(path)
    await store.open()
    try:
        assert await store.get_response("resp_old", "s") == '{"messages": []}'
        assert await store.get_response_object("resp_old", "s") is None
        await store.save_response("resp_new", "s", None, "{}", '{"id": "resp_new"}')
        assert await store.get_response_object("resp_new", "s") == '{"id": "resp_new"}'
        assert await store.delete_response("resp_old", "s")
        assert await store.get_response("resp_old", "s") is None
    finally:
        await store.close()
    with closing(sqlite3.connect(path)) as db:
        (version,) = db.execute("PRAGMA user_version").fetchone()
    assert version == len(MIGRATIONS)


async def test_a_record_stored_before_replays_were_counted_starts_at_zero(
    tmp_path: Path,
) -> None:
    """An older record reads with no replays, and counts the ones noted from then on."""
    path = tmp_path / "woz.sqlite3"
    _old_store(path, version=9)
    record = make_record()
    with closing(sqlite3.connect(path, isolation_level=None)) as db:
        db.execute(
            "INSERT INTO records (id, task_id, study_id, persona, conversation_id, participant,"
            " operator, produced_by, status, received_at, body)"
            " VALUES (?, ?, 's', 'p', 'c', NULL, NULL, 'human', 'delivered', ?, ?)",
            (record.id, record.task_id, T0.isoformat(), record.model_dump_json()),
        )
    store = SQLiteStore(path)
    await store.open()
    try:
        before = await store.get_record(record.id)
        assert before is not None and before.replays == 0
        await asyncio.gather(
            store.note_record_replayed(record.id), store.note_record_replayed(record.id)
        )
        after = await store.get_record(record.id)
        assert after is not None and after.replays == 2
    finally:
        await store.close()
