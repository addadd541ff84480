"""The audit protocol: one hash chain per study, and the study definitions served.

Concurrency: `append_audit` links each entry to its predecessor inside the write
transaction, so several writers (coroutines, processes, machines) still form one
unbroken chain with consecutive sequence numbers. SQLite gets this from its
single writer; PostgreSQL takes a per-study transaction-scoped advisory lock
before reading the chain's last entry. The log is append-only in the database
itself (triggers refuse updates and deletes).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from woz.models.research import AuditEntry


class AuditStore(Protocol):
    async def append_audit(
        self,
        study_id: str,
        actor: str,
        action: str,
        subject: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        """Durably append an entry to the study's hash chain (see `woz.research.audit`)."""

    async def list_audit(self, study_id: str) -> Sequence[AuditEntry]:
        """The study's chain in sequence order."""

    async def audited_studies(self) -> Sequence[str]:
        """The ids of the studies with an audit chain, sorted."""

    async def save_study_definition(self, study_id: str, definition_json: str) -> bool:
        """Keep the definition the study is served with; True when it is new."""

    async def study_definition(self, study_id: str) -> str | None:
        """The definition last served, as JSON, or None."""

    async def served_studies(self) -> Sequence[str]:
        """The ids of the studies ever served from this store, sorted."""
