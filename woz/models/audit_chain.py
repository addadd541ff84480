"""The audit chain's links: each entry's hash covers its predecessor's hash and its own fields.

An entry's `hash` is the SHA-256 of its fields and its previous entry's hash in
canonical JSON (sorted keys, no spaces, UTF-8), the chain of a study starting from
`GENESIS`. Stores compute it when they append (inside their transaction);
`woz.research.audit.verify_chain` recomputes it to check a chain.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

GENESIS = "0" * 64


def entry_hash(
    prev_hash: str,
    study_id: str,
    seq: int,
    at: datetime,
    actor: str,
    action: str,
    subject: str | None,
    details: dict[str, Any],
) -> str:
    """The hash that links an entry to its predecessor."""
    canonical = json.dumps(
        {
            "prev_hash": prev_hash,
            "study_id": study_id,
            "seq": seq,
            "at": at.isoformat(),
            "actor": actor,
            "action": action,
            "subject": subject,
            "details": details,
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()
