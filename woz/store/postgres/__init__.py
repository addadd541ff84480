"""The shared store: PostgreSQL, for several woz processes on one machine or several.

Each concept's tables live in a module of their own (`pg_keys`, `pg_records`,
...) on the shared plumbing of `pg_database.PostgresDatabase` (a psycopg 3
async connection pool); `PostgresStore` combines them into the whole `Store`.
The schema is created and migrated by `open` (`pg_migrations`).
"""

from __future__ import annotations

from woz.store.postgres.audit import PgAuditTables
from woz.store.postgres.keys import PgKeyTables
from woz.store.postgres.media import PgMediaTables
from woz.store.postgres.operators import PgOperatorTables
from woz.store.postgres.page_sessions import PgPageSessionTables
from woz.store.postgres.participants import PgParticipantTables
from woz.store.postgres.questionnaires import PgQuestionnaireTables
from woz.store.postgres.records import PgRecordTables
from woz.store.postgres.responses import PgResponseTables


class PostgresStore(
    PgKeyTables,
    PgRecordTables,
    PgResponseTables,
    PgParticipantTables,
    PgPageSessionTables,
    PgOperatorTables,
    PgQuestionnaireTables,
    PgAuditTables,
    PgMediaTables,
):
    """`Store` on the PostgreSQL database at `url` (`postgresql://...`); uploaded media
    in the database, cached in the local folder `media_cache`."""
