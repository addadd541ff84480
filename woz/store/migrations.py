"""Numbered schema migrations for the SQLite store.

`PRAGMA user_version` holds the number of migrations applied. Append new
migrations; never edit one that has shipped.
"""

from __future__ import annotations

import sqlite3

MIGRATIONS: list[str] = [
    # 1: studies, keys, console sessions, records.
    """
    CREATE TABLE studies (
        id TEXT PRIMARY KEY,
        title TEXT NOT NULL,
        secret BLOB NOT NULL,
        created_at TEXT NOT NULL
    );
    CREATE TABLE keys (
        id TEXT PRIMARY KEY,
        study_id TEXT NOT NULL,
        role TEXT NOT NULL CHECK (role IN ('app', 'operator', 'researcher')),
        name TEXT NOT NULL,
        token_hash TEXT NOT NULL UNIQUE,
        created_at TEXT NOT NULL,
        revoked_at TEXT
    );
    CREATE TABLE console_sessions (
        session_hash TEXT PRIMARY KEY,
        key_id TEXT NOT NULL REFERENCES keys(id),
        expires_at TEXT NOT NULL
    );
    CREATE TABLE records (
        id TEXT PRIMARY KEY,
        task_id TEXT NOT NULL UNIQUE,
        study_id TEXT NOT NULL,
        persona TEXT NOT NULL,
        conversation_id TEXT NOT NULL,
        participant TEXT,
        operator TEXT,
        produced_by TEXT,
        status TEXT NOT NULL,
        received_at TEXT NOT NULL,
        body TEXT NOT NULL
    );
    CREATE INDEX records_study ON records (study_id, received_at);
    CREATE INDEX records_participant ON records (study_id, participant);
    """,
    # 2: Responses API responses, kept so `previous_response_id` can continue them.
    """
    CREATE TABLE responses (
        id TEXT PRIMARY KEY,
        study_id TEXT NOT NULL,
        participant TEXT,
        created_at TEXT NOT NULL,
        items TEXT NOT NULL
    );
    CREATE INDEX responses_participant ON responses (study_id, participant);
    """,
    # 3: which arm of a study's experiment each participant is in; never changes.
    """
    CREATE TABLE arm_assignments (
        study_id TEXT NOT NULL,
        participant TEXT NOT NULL,
        arm TEXT NOT NULL,
        position INTEGER NOT NULL,
        method TEXT NOT NULL,
        assigned_at TEXT NOT NULL,
        PRIMARY KEY (study_id, participant)
    );
    """,
]


def migrate(connection: sqlite3.Connection) -> int:
    """Apply every migration not yet applied; returns the schema version."""
    (version,) = connection.execute("PRAGMA user_version").fetchone()
    for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
        connection.executescript(f"BEGIN;\n{script}\nPRAGMA user_version = {number};\nCOMMIT;")
    return len(MIGRATIONS)
