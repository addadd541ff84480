"""The Store: every protocol woz persists through, bundled, plus its lifecycle.

Each concern is a small protocol of its own (`keys`, `records`, `responses`,
`research`, `page_sessions`, `audit`, `media`); code that needs one concern may ask for that
protocol alone. Backends: `woz.store.sqlite` (the embedded default) and
`woz.store.postgres` (several processes, several machines); `store_for` in
`woz.store.factory` picks one from the settings.
"""

from __future__ import annotations

from typing import Protocol

from woz.store.audit import AuditStore
from woz.store.keys import KeyStore
from woz.store.media import MediaStore
from woz.store.page_sessions import PageSessionStore
from woz.store.records import RecordStore
from woz.store.research import ResearchStore
from woz.store.responses import ResponseStore


class StoreUnavailable(Exception):
    """The database cannot be reached; the message names it (never with a password)."""


class Store(
    KeyStore,
    RecordStore,
    ResponseStore,
    ResearchStore,
    PageSessionStore,
    AuditStore,
    MediaStore,
    Protocol,
):
    async def open(self) -> None:
        """Connect, and create or migrate the schema; must be called before anything else.
        Several processes may open the same database at once (migrations are serialised)."""

    async def close(self) -> None:
        """Make every write made so far durable, and disconnect."""
