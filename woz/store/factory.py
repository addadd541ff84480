"""`store_for`: the store the settings name, PostgreSQL by URL or SQLite in the data folder."""

from __future__ import annotations

from woz.config import Settings
from woz.store.base import Store
from woz.store.sqlite import SQLiteStore


def store_for(settings: Settings) -> Store:
    """A store, not yet open: PostgreSQL at `settings.database_url` (shared by every
    process; media cached in the data folder's `media-cache`), or else SQLite in
    `settings.data` (`woz.db`, media in `media`)."""
    if settings.database_url:
        # Imported here: SQLite-only processes (the demo, most commands) skip psycopg.
        from woz.store.postgres import PostgresStore

        return PostgresStore(
            settings.database_url, settings.data / "media-cache", settings.database_pool_size
        )
    return SQLiteStore(settings.database)
