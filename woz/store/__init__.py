"""Persistence behind one `Store` protocol; SQLite is the embedded default."""

from woz.store.base import Store
from woz.store.sqlite import SQLiteStore

__all__ = ["SQLiteStore", "Store"]
