"""Pseudonyms: HMAC of the study's secret and an identity, never the identity itself.

The same person gets the same pseudonym within a study and unlinkable ones
across studies (each study has its own secret).
"""

from __future__ import annotations

import hashlib
import hmac


def pseudonym(secret: bytes, kind: str, identity: str) -> str:
    """A stable pseudonym such as `p_1f2e...` for `identity` within one study."""
    digest = hmac.new(secret, f"{kind}:{identity}".encode(), hashlib.sha256).hexdigest()
    return f"{kind}_{digest[:20]}"


def tombstone_of(participant: str) -> str:
    """The participant's *subject*: a SHA-256 of their pseudonym, `t_...`.

    Consent and disclosure are keyed by it, and it is all that remains after a
    withdrawal. Whoever holds a pseudonym (say, in an old export) can compute it
    and so find out that the participant withdrew; it cannot be turned back
    into the pseudonym.
    """
    return "t_" + hashlib.sha256(participant.encode()).hexdigest()
