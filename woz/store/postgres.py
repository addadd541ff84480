"""The shared store: PostgreSQL, for several woz processes on one machine or several.

Each concept's tables live in a module of their own (`pg_keys`, `pg_records`,
...) on the shared plumbing of `pg_database.PostgresDatabase` (a psycopg 3
async connection pool); `PostgresStore` combines them into the whole `Store`.
The schema is created and migrated by `open` (`pg_migrations`).
"""

from __future__ import annotations

from woz.store.pg_audit import PgAuditTables
from woz.store.pg_keys import PgKeyTables
from woz.store.pg_media import PgMediaTables
from woz.store.pg_operators import PgOperatorTables
from woz.store.pg_page_sessions import PgPageSessionTables
from woz.store.pg_participants import PgParticipantTables
from woz.store.pg_records import PgRecordTables
from woz.store.pg_responses import PgResponseTables


class PostgresStore(
    PgKeyTables,
    PgRecordTables,
    PgResponseTables,
    PgParticipantTables,
    PgPageSessionTables,
    PgOperatorTables,
    PgAuditTables,
    PgMediaTables,
):
    """`Store` on the PostgreSQL database at `url` (`postgresql://...`); uploaded media
    in the database, cached in the local folder `media_cache`."""
