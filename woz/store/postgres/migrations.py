"""Numbered schema migrations for the PostgreSQL store.

Applied migrations are recorded in the table `woz_migrations` (number, when).
`migrate` holds a transaction-scoped advisory lock while it works, so several
processes starting at once apply each migration exactly once. Append new
migrations; never edit one that has shipped. The list starts at today's SQLite
schema (its 10 migrations) in one step; later SQLite migrations get their
PostgreSQL counterpart appended here.
"""

from __future__ import annotations

from psycopg import AsyncConnection

from woz.store.sqlite.migrations import QUESTIONNAIRE_TABLES

# Any constant shared by every woz process; the second key names the lock's purpose.
LOCK_CLASS = 0x574F5A  # "WOZ"
MIGRATION_LOCK = 1


def _append_only(table: str, what: str, name: str) -> str:
    """Triggers that refuse any change but an insert to `table` (row and statement level),
    named `<name>_append_only` and `<name>_kept` as in SQLite."""
    are = "is" if what.startswith("the ") else "are"
    message = f"'{what} {are} append-only'"
    return f"""
    CREATE TRIGGER {name}_append_only BEFORE UPDATE OR DELETE ON {table}
        FOR EACH ROW EXECUTE FUNCTION woz_append_only({message});
    CREATE TRIGGER {name}_kept BEFORE TRUNCATE ON {table}
        FOR EACH STATEMENT EXECUTE FUNCTION woz_append_only({message});
    """


MIGRATIONS: list[str] = [
    # 1: the schema of SQLite's migrations 1 to 10, and the append-only rule as triggers.
    """
    CREATE TABLE studies (
        id TEXT PRIMARY KEY,
        title TEXT NOT NULL,
        secret BYTEA NOT NULL,
        created_at TIMESTAMPTZ NOT NULL
    );
    CREATE TABLE keys (
        id TEXT PRIMARY KEY,
        study_id TEXT NOT NULL,
        role TEXT NOT NULL CHECK (role IN ('app', 'operator', 'researcher')),
        name TEXT NOT NULL,
        token_hash TEXT NOT NULL UNIQUE,
        created_at TIMESTAMPTZ NOT NULL,
        revoked_at TIMESTAMPTZ
    );
    CREATE INDEX keys_study ON keys (study_id, created_at);
    CREATE TABLE console_sessions (
        session_hash TEXT PRIMARY KEY,
        key_id TEXT NOT NULL REFERENCES keys(id),
        expires_at TIMESTAMPTZ NOT NULL
    );
    CREATE TABLE records (
        seq BIGSERIAL NOT NULL,
        id TEXT PRIMARY KEY,
        task_id TEXT NOT NULL UNIQUE,
        study_id TEXT NOT NULL,
        persona TEXT NOT NULL,
        conversation_id TEXT NOT NULL,
        participant TEXT,
        operator TEXT,
        produced_by TEXT,
        status TEXT NOT NULL,
        received_at TIMESTAMPTZ NOT NULL,
        delivered_at TIMESTAMPTZ,
        wizard_error TEXT,
        replays INTEGER NOT NULL DEFAULT 0,
        body TEXT NOT NULL
    );
    CREATE INDEX records_study ON records (study_id, received_at);
    CREATE INDEX records_participant ON records (study_id, participant);
    CREATE INDEX records_operator ON records (study_id, operator);
    CREATE TABLE responses (
        id TEXT PRIMARY KEY,
        study_id TEXT NOT NULL,
        participant TEXT,
        created_at TIMESTAMPTZ NOT NULL,
        items TEXT NOT NULL,
        response TEXT
    );
    CREATE INDEX responses_participant ON responses (study_id, participant);
    CREATE TABLE arm_assignments (
        study_id TEXT NOT NULL,
        participant TEXT NOT NULL,
        arm TEXT NOT NULL,
        position INTEGER NOT NULL,
        method TEXT NOT NULL,
        assigned_at TIMESTAMPTZ NOT NULL,
        PRIMARY KEY (study_id, participant),
        UNIQUE (study_id, position)
    );
    CREATE TABLE study_definitions (
        study_id TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        definition TEXT NOT NULL,
        first_served_at TIMESTAMPTZ NOT NULL,
        last_served_at TIMESTAMPTZ NOT NULL,
        PRIMARY KEY (study_id, sha256)
    );
    CREATE TABLE participants (
        study_id TEXT NOT NULL,
        subject TEXT NOT NULL,
        pseudonym TEXT,
        first_seen_at TIMESTAMPTZ NOT NULL,
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
        granted_at TIMESTAMPTZ NOT NULL
    );
    CREATE INDEX consents_subject ON consents (study_id, subject, granted_at);
    CREATE TABLE disclosures (
        seq BIGSERIAL PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        study_id TEXT NOT NULL,
        subject TEXT NOT NULL,
        kind TEXT NOT NULL,
        at TIMESTAMPTZ NOT NULL,
        text_sha256 TEXT,
        details TEXT NOT NULL
    );
    CREATE INDEX disclosures_subject ON disclosures (study_id, subject);
    CREATE TABLE tombstones (
        study_id TEXT NOT NULL,
        subject TEXT NOT NULL,
        withdrawn_at TIMESTAMPTZ NOT NULL,
        records_deleted INTEGER NOT NULL,
        PRIMARY KEY (study_id, subject)
    );
    CREATE TABLE operator_presence (
        seq BIGSERIAL PRIMARY KEY,
        study_id TEXT NOT NULL,
        operator TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('available', 'paused', 'offline')),
        at TIMESTAMPTZ NOT NULL
    );
    CREATE INDEX operator_presence_study ON operator_presence (study_id, at);
    CREATE TABLE audit_log (
        study_id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        at TIMESTAMPTZ NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        subject TEXT,
        details TEXT NOT NULL,
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL,
        PRIMARY KEY (study_id, seq)
    );
    CREATE TABLE operator_consents (
        id TEXT PRIMARY KEY,
        study_id TEXT NOT NULL,
        operator TEXT NOT NULL,
        version TEXT NOT NULL,
        text_sha256 TEXT NOT NULL,
        method TEXT NOT NULL,
        scopes TEXT NOT NULL,
        granted_at TIMESTAMPTZ NOT NULL
    );
    CREATE INDEX operator_consents_study ON operator_consents (study_id, granted_at);
    CREATE TABLE operator_training (
        id TEXT PRIMARY KEY,
        study_id TEXT NOT NULL,
        operator TEXT NOT NULL,
        trained_at TIMESTAMPTZ NOT NULL,
        note TEXT NOT NULL
    );
    CREATE INDEX operator_training_study ON operator_training (study_id, trained_at);

    CREATE FUNCTION woz_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION '%', TG_ARGV[0] USING ERRCODE = 'restrict_violation';
    END $$;
    """
    + "".join(
        _append_only(table, what, name)
        for table, what, name in (
            ("consents", "consent records", "consents"),
            ("operator_consents", "consent records", "operator_consents"),
            ("disclosures", "disclosure events", "disclosures"),
            ("audit_log", "the audit log", "audit"),
            ("operator_training", "training records", "operator_training"),
        )
    ),
    # 2: uploaded media, in the database so every process on every machine reads them.
    """
    CREATE TABLE media (
        id TEXT PRIMARY KEY,
        size BIGINT NOT NULL,
        data BYTEA NOT NULL,
        created_at TIMESTAMPTZ NOT NULL DEFAULT now()
    );
    """,
    # 3: SQLite's 11: participants' ways through the participant page.
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
        started_at TIMESTAMPTZ NOT NULL,
        chat_started_at TIMESTAMPTZ,
        chat_ended_at TIMESTAMPTZ,
        ended_by TEXT,
        finished_at TIMESTAMPTZ,
        outcome TEXT,
        code TEXT,
        PRIMARY KEY (study_id, subject)
    );
    CREATE INDEX page_sessions_started ON page_sessions (study_id, started_at);
    """,
    # 4: participants' answers to questionnaires, and their feedback (SQLite's 12).
    QUESTIONNAIRE_TABLES.format(time="TIMESTAMPTZ"),
]


async def migrate(connection: AsyncConnection[object]) -> int:
    """Apply every migration not yet applied, each in its own transaction; returns the
    schema version. `connection` must be in autocommit mode."""
    async with connection.transaction():
        await _lock(connection)
        await connection.execute(
            "CREATE TABLE IF NOT EXISTS woz_migrations"
            " (number INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
        )
    for number, script in enumerate(MIGRATIONS, start=1):
        async with connection.transaction():
            await _lock(connection)
            cursor = await connection.execute(
                "SELECT 1 FROM woz_migrations WHERE number = %s", (number,)
            )
            if await cursor.fetchone() is not None:
                continue
            await connection.execute(script)
            await connection.execute("INSERT INTO woz_migrations (number) VALUES (%s)", (number,))
    return len(MIGRATIONS)


async def _lock(connection: AsyncConnection[object]) -> None:
    """Wait for any other process migrating; held until the transaction ends."""
    await connection.execute("SELECT pg_advisory_xact_lock(%s, %s)", (LOCK_CLASS, MIGRATION_LOCK))
