"""Numbered schema migrations for the SQLite store.

`PRAGMA user_version` holds the number of migrations applied. Append new
migrations; never edit one that has shipped.
"""

from __future__ import annotations

import sqlite3

QUESTIONNAIRE_TABLES = """
    CREATE TABLE questionnaire_answers (
        study_id TEXT NOT NULL,
        participant TEXT NOT NULL,
        questionnaire TEXT NOT NULL,
        moment TEXT NOT NULL,
        arm TEXT,
        answers TEXT NOT NULL,
        submitted_at {time} NOT NULL,
        PRIMARY KEY (study_id, participant, questionnaire)
    );
    CREATE INDEX questionnaire_answers_study ON questionnaire_answers (study_id, submitted_at);
    CREATE TABLE feedback (
        study_id TEXT NOT NULL,
        record_id TEXT NOT NULL,
        participant TEXT NOT NULL,
        rating INTEGER NOT NULL CHECK (rating IN (-1, 1)),
        comment TEXT NOT NULL,
        at {time} NOT NULL,
        PRIMARY KEY (study_id, record_id)
    );
    CREATE INDEX feedback_participant ON feedback (study_id, participant);
    CREATE TABLE answer_reads (
        study_id TEXT NOT NULL,
        record_id TEXT NOT NULL,
        participant TEXT NOT NULL,
        read_at {time} NOT NULL,
        PRIMARY KEY (study_id, record_id)
    );
    CREATE INDEX answer_reads_participant ON answer_reads (study_id, participant);
"""
"""The same tables in both stores (PostgreSQL's migration 3); `time` is the column type
of instants (SQLite: ISO 8601 text; PostgreSQL: TIMESTAMPTZ)."""

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
    # 4: research ethics: study definitions as served, participants (by subject hash),
    # consents and disclosure events (append-only), tombstones, operator presence,
    # and the hash-chained audit log (append-only).
    """
    CREATE TABLE study_definitions (
        study_id TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        definition TEXT NOT NULL,
        first_served_at TEXT NOT NULL,
        last_served_at TEXT NOT NULL,
        PRIMARY KEY (study_id, sha256)
    );
    CREATE TABLE participants (
        study_id TEXT NOT NULL,
        subject TEXT NOT NULL,
        pseudonym TEXT,
        first_seen_at TEXT NOT NULL,
        PRIMARY KEY (study_id, subject)
    );
    CREATE UNIQUE INDEX participants_pseudonym ON participants (study_id, pseudonym);
    CREATE TABLE consents (
        id TEXT PRIMARY KEY,
        study_id TEXT NOT NULL,
        subject TEXT NOT NULL,
        version TEXT NOT NULL,
        text_sha256 TEXT NOT NULL,
        method TEXT NOT NULL,
        scopes TEXT NOT NULL,
        granted_at TEXT NOT NULL
    );
    CREATE INDEX consents_subject ON consents (study_id, subject, granted_at);
    CREATE TABLE disclosures (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        study_id TEXT NOT NULL,
        subject TEXT NOT NULL,
        kind TEXT NOT NULL,
        at TEXT NOT NULL,
        text_sha256 TEXT,
        details TEXT NOT NULL
    );
    CREATE INDEX disclosures_subject ON disclosures (study_id, subject);
    CREATE TABLE tombstones (
        study_id TEXT NOT NULL,
        subject TEXT NOT NULL,
        withdrawn_at TEXT NOT NULL,
        records_deleted INTEGER NOT NULL,
        PRIMARY KEY (study_id, subject)
    );
    CREATE TABLE operator_presence (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        study_id TEXT NOT NULL,
        operator TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('available', 'paused', 'offline')),
        at TEXT NOT NULL
    );
    CREATE INDEX operator_presence_study ON operator_presence (study_id, at);
    CREATE TABLE audit_log (
        study_id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        at TEXT NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        subject TEXT,
        details TEXT NOT NULL,
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL,
        PRIMARY KEY (study_id, seq)
    );
    CREATE TRIGGER consents_append_only BEFORE UPDATE ON consents
        BEGIN SELECT RAISE(ABORT, 'consent records are append-only'); END;
    CREATE TRIGGER consents_kept BEFORE DELETE ON consents
        BEGIN SELECT RAISE(ABORT, 'consent records are append-only'); END;
    CREATE TRIGGER disclosures_append_only BEFORE UPDATE ON disclosures
        BEGIN SELECT RAISE(ABORT, 'disclosure events are append-only'); END;
    CREATE TRIGGER disclosures_kept BEFORE DELETE ON disclosures
        BEGIN SELECT RAISE(ABORT, 'disclosure events are append-only'); END;
    CREATE TRIGGER audit_append_only BEFORE UPDATE ON audit_log
        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
    CREATE TRIGGER audit_kept BEFORE DELETE ON audit_log
        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
    """,
    # 5: delivery is a column, so marking a record delivered does not rewrite its body.
    """
    ALTER TABLE records ADD COLUMN delivered_at TEXT;
    UPDATE records SET delivered_at = json_extract(body, '$.timings.delivered_at');
    """,
    # 6: the Responses API response object itself, for `GET /v1/responses/{id}`.
    """
    ALTER TABLE responses ADD COLUMN response TEXT;
    """,
    # 7: operators' consent to the reuse of their text (append-only, like consents).
    """
    CREATE TABLE operator_consents (
        id TEXT PRIMARY KEY,
        study_id TEXT NOT NULL,
        operator TEXT NOT NULL,
        version TEXT NOT NULL,
        text_sha256 TEXT NOT NULL,
        method TEXT NOT NULL,
        scopes TEXT NOT NULL,
        granted_at TEXT NOT NULL
    );
    CREATE INDEX operator_consents_study ON operator_consents (study_id, granted_at);
    CREATE TRIGGER operator_consents_append_only BEFORE UPDATE ON operator_consents
        BEGIN SELECT RAISE(ABORT, 'consent records are append-only'); END;
    CREATE TRIGGER operator_consents_kept BEFORE DELETE ON operator_consents
        BEGIN SELECT RAISE(ABORT, 'consent records are append-only'); END;
    """,
    # 8: operators' training (append-only), and records flagged as wizard errors.
    """
    CREATE TABLE operator_training (
        id TEXT PRIMARY KEY,
        study_id TEXT NOT NULL,
        operator TEXT NOT NULL,
        trained_at TEXT NOT NULL,
        note TEXT NOT NULL
    );
    CREATE INDEX operator_training_study ON operator_training (study_id, trained_at);
    CREATE TRIGGER operator_training_append_only BEFORE UPDATE ON operator_training
        BEGIN SELECT RAISE(ABORT, 'training records are append-only'); END;
    CREATE TRIGGER operator_training_kept BEFORE DELETE ON operator_training
        BEGIN SELECT RAISE(ABORT, 'training records are append-only'); END;
    ALTER TABLE records ADD COLUMN wizard_error TEXT;
    """,
    # 9: an operator's own records (the console's work line) without reading the study's.
    """
    CREATE INDEX records_operator ON records (study_id, operator);
    """,
    # 10: how many times a record's answer was given again to a retry of its request.
    """
    ALTER TABLE records ADD COLUMN replays INTEGER NOT NULL DEFAULT 0;
    """,
    # 11: participants' ways through the participant page, kept past a withdrawal
    # (by subject) so that recruitment platforms' submissions stay payable.
    """
    CREATE TABLE page_sessions (
        study_id TEXT NOT NULL,
        subject TEXT NOT NULL,
        participant TEXT,
        platform TEXT NOT NULL,
        platform_session TEXT,
        platform_study TEXT,
        consent_id TEXT,
        arm TEXT,
        started_at TEXT NOT NULL,
        chat_started_at TEXT,
        chat_ended_at TEXT,
        ended_by TEXT,
        finished_at TEXT,
        outcome TEXT,
        code TEXT,
        PRIMARY KEY (study_id, subject)
    );
    CREATE INDEX page_sessions_started ON page_sessions (study_id, started_at);
    """,
    # 12: participants' answers to questionnaires, their feedback on answers, and when
    # their page showed them each answer (read).
    QUESTIONNAIRE_TABLES.format(time="TEXT"),
]


def migrate(connection: sqlite3.Connection) -> int:
    """Apply every migration not yet applied; returns the schema version."""
    (version,) = connection.execute("PRAGMA user_version").fetchone()
    for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
        connection.executescript(f"BEGIN;\n{script}\nPRAGMA user_version = {number};\nCOMMIT;")
    return len(MIGRATIONS)
