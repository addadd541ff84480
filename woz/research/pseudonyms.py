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
