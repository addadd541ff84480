"""The audit log: an append-only, hash-chained record of what changed consent and data.

Each study has its own chain. An entry's `hash` is the SHA-256 of its previous
entry's hash and of its own fields in canonical JSON, so editing, deleting or
reordering any entry breaks every link after it. The table also refuses
updates and deletes (triggers); the chain is what catches someone who
bypasses them. Deleting the *last* entries is only caught against a head hash
noted elsewhere, which is why `woz audit verify` prints the head.

What is audited: consent given, re-consent, debriefing, withdrawal and deletion,
study definitions served, and exports (with their manifest's hash).
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel

from woz.models.audit_chain import GENESIS, entry_hash
from woz.models.research import AuditEntry


class ChainReport(BaseModel):
    """The result of verifying one study's chain."""

    study_id: str
    entries: int
    head: str
    problems: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_chain(study_id: str, entries: Sequence[AuditEntry]) -> ChainReport:
    """Recompute every link of `entries` (in `seq` order); name each broken one."""
    problems: list[str] = []
    prev = GENESIS
    for expected_seq, entry in enumerate(entries, start=1):
        if entry.seq != expected_seq:
            problems.append(f"entry {expected_seq} is missing (found seq {entry.seq} instead)")
        if entry.prev_hash != prev:
            problems.append(f"entry {entry.seq} ({entry.action}) does not follow its predecessor")
        recomputed = entry_hash(
            entry.prev_hash,
            entry.study_id,
            entry.seq,
            entry.at,
            entry.actor,
            entry.action,
            entry.subject,
            entry.details,
        )
        if recomputed != entry.hash:
            problems.append(f"entry {entry.seq} ({entry.action}) was edited after it was written")
        prev = entry.hash
    return ChainReport(study_id=study_id, entries=len(entries), head=prev, problems=problems)
