"""The audit log's hash chain: intact when appended, broken by any edit."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from woz.research.audit import verify_chain
from woz.store.sqlite import SQLiteStore


async def filled_store(path: Path) -> SQLiteStore:
    store = SQLiteStore(path)
    await store.open()
    await store.append_audit("s", "cli", "consent.granted", "t_1", {"scopes": ["a"]})
    await store.append_audit("s", "cli", "disclosure.debriefed", "t_1")
    await store.append_audit("other", "cli", "export.created", None, {"records": 3})
    await store.append_audit("s", "cli", "export.created", None, {"records": 1})
    return store


async def test_appended_entries_form_one_chain_per_study(tmp_path: Path) -> None:
    """Each study's entries are numbered from 1 and each links to the one before."""
    store = await filled_store(tmp_path / "woz.db")
    try:
        entries = await store.list_audit("s")
        report = verify_chain("s", entries)
        assert report.ok and report.entries == 3 and report.head == entries[-1].hash
        assert [e.seq for e in entries] == [1, 2, 3]
        assert await store.audited_studies() == ["other", "s"]
    finally:
        await store.close()


@pytest.mark.parametrize(
    ("tamper", "problem"),
    [
        ('UPDATE audit_log SET details = \'{"scopes": ["b"]}\' WHERE seq = 1', "entry 1"),
        ("UPDATE audit_log SET actor = 'someone' WHERE seq = 2", "entry 2"),
        ("DELETE FROM audit_log WHERE seq = 2", "entry 2 is missing"),
    ],
)
async def test_an_edited_row_fails_verification(tmp_path: Path, tamper: str, problem: str) -> None:
    """Someone who bypasses the append-only triggers still breaks the chain."""
    store = await filled_store(tmp_path / "woz.db")
    await store.close()
    with sqlite3.connect(tmp_path / "woz.db") as db:
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            db.execute(tamper)
        db.execute("DROP TRIGGER audit_append_only")
        db.execute("DROP TRIGGER audit_kept")
        db.execute(tamper)
    db.close()
    store = SQLiteStore(tmp_path / "woz.db")
    await store.open()
    try:
        report = verify_chain("s", await store.list_audit("s"))
    finally:
        await store.close()
    assert not report.ok and any(problem in p for p in report.problems), report.problems
