"""Persistence behind small protocols, bundled as `Store`; SQLite is the embedded default,
PostgreSQL the backend for several processes. `store_for` picks one from the settings."""

from woz.store.base import Store

__all__ = ["Store"]
