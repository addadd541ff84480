"""The key protocol: studies' pseudonymisation secrets, API keys and console sessions.

Tokens reach a store already hashed; a store never sees a secret. Every method is
safe to call from several processes at once: secrets are created with an upsert
(the first writer's secret wins, every caller gets that one), key and session
inserts are single statements.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from woz.models.keys import KeyInfo, KeyRole


class KeyStore(Protocol):
    async def study_secret(self, study_id: str, title: str) -> bytes:
        """The study's pseudonymisation secret, created on first use; every process and
        every later call gets the same bytes."""

    async def add_key(
        self, key_id: str, study_id: str, role: KeyRole, name: str, token_hash: str
    ) -> KeyInfo:
        """Durably add a key; `token_hash` is unique across studies."""

    async def key_by_hash(self, token_hash: str) -> KeyInfo | None:
        """The key with this token hash, or None if unknown or revoked."""

    async def list_keys(self, study_id: str | None) -> Sequence[KeyInfo]:
        """The study's keys (every study's, for None) in order of creation, revoked ones
        included."""

    async def revoke_key(self, key_id: str) -> KeyInfo | None:
        """Durably revoke a key (and so its console sessions): from then on `key_by_hash`
        and `console_session` no longer find it. Returns the key as it now stands (an
        already revoked one keeps its first `revoked_at`), or None if there is no such key."""

    async def add_console_session(
        self, session_hash: str, key_id: str, expires_at: datetime
    ) -> None:
        """Durably open a console session for an operator key."""

    async def console_session(self, session_hash: str) -> KeyInfo | None:
        """The operator key behind a live console session, or None if unknown or expired."""
