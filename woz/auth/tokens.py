"""Tokens: created once, stored and looked up as SHA-256 hashes.

Tokens are 256-bit random strings, so a plain SHA-256 is a safe verifier (no
password-style stretching is needed). Verified keys are cached by hash for a few
seconds; a key created by `woz keys create` while the server runs is found on first
use, and one revoked by `woz keys revoke` stops working when its cache entry ends.
"""

from __future__ import annotations

import hashlib
import secrets
import time

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
    """Verifies tokens against the store, with a short-lived cache of known hashes.

    A key is remembered for `cache_s` seconds, so a key revoked with `woz keys revoke`
    (by any process, on any machine sharing the store) stops working within that time.
    Which study a key opens is the caller's concern (`woz.context.scope_to`).
    """

    def __init__(self, store: Store, cache_s: float = 2.0) -> None:
        self._store = store
        self._cache_s = cache_s
        self._known: dict[str, tuple[float, KeyInfo]] = {}

    async def verify(self, token: str, *roles: KeyRole) -> KeyInfo | None:
        """The live key for `token` if it has one of `roles`."""
        # Looked up by the SHA-256 of the token: what is compared is a hash, so
        # the lookup's timing tells nothing about any stored token.
        digest = hash_token(token)
        now = time.monotonic()
        cached = self._known.get(digest)
        if cached is not None and cached[0] > now:
            info = cached[1]
        else:
            found = await self._store.key_by_hash(digest)
            if found is None:
                self._known.pop(digest, None)
                return None
            info = found
            if self._cache_s > 0 and (cached is not None or len(self._known) < 10_000):
                self._known[digest] = (now + self._cache_s, info)
        return self.allowed(info, roles)

    def seen(self, token: str) -> KeyInfo | None:
        """The key for `token` if it was verified lately (no waiting), else None: then
        `verify` asks the store. Check it with `allowed`."""
        cached = self._known.get(hash_token(token))
        if cached is None or cached[0] <= time.monotonic():
            return None
        return cached[1]

    def allowed(self, info: KeyInfo, roles: tuple[KeyRole, ...]) -> KeyInfo | None:
        """`info` if it has one of `roles` (its study is checked where the request is
        scoped, `woz.context.scope_to`)."""
        return info if info.role in roles else None


def bearer_token(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header."""
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()
