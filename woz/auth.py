"""Tokens: created once, stored and looked up as SHA-256 hashes.

Tokens are 256-bit random strings, so a plain SHA-256 is a safe verifier (no
password-style stretching is needed). Verified keys are cached by hash; a key
created by `woz keys create` while the server runs is found on first use.
"""

from __future__ import annotations

import hashlib
import secrets

from woz.models.keys import KeyInfo, KeyRole
from woz.models.task import new_id
from woz.store.base import Store


def new_token(role: KeyRole) -> str:
    return f"woz-{role}-{secrets.token_urlsafe(32)}"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def create_key(store: Store, study_id: str, role: KeyRole, name: str) -> tuple[KeyInfo, str]:
    """Create a key; returns it with its token, which is never stored or shown again."""
    token = new_token(role)
    info = await store.add_key(new_id("key_", 8), study_id, role, name, hash_token(token))
    return info, token


class KeyRing:
    """Verifies tokens against the store, with a cache of known hashes."""

    def __init__(self, store: Store, study_id: str) -> None:
        self._store = store
        self._study_id = study_id
        self._known: dict[str, KeyInfo] = {}

    async def verify(self, token: str, *roles: KeyRole) -> KeyInfo | None:
        """The key for `token` if it belongs to this study and has one of `roles`."""
        # Looked up by the SHA-256 of the token: what is compared is a hash, so
        # the lookup's timing tells nothing about any stored token.
        digest = hash_token(token)
        info = self._known.get(digest)
        if info is None:
            info = await self._store.key_by_hash(digest)
            if info is None:
                return None
            if len(self._known) < 10_000:
                self._known[digest] = info
        return self.allowed(info, roles)

    def seen(self, token: str) -> KeyInfo | None:
        """The key for `token` if it was verified before (no waiting), else None: then
        `verify` asks the store. Check it with `allowed`."""
        return self._known.get(hash_token(token))

    def allowed(self, info: KeyInfo, roles: tuple[KeyRole, ...]) -> KeyInfo | None:
        """`info` if it belongs to this study and has one of `roles`."""
        if info.study_id != self._study_id or info.role not in roles:
            return None
        return info


def bearer_token(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header."""
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()
