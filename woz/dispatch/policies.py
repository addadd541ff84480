"""Which ready operator gets a task.

A conversation stays with the operator who already holds it (so one person
answers a whole thread); otherwise the least loaded operator relative to their
capacity gets it, ties going to whoever has waited longest since their last task.
An operator who released a task is asked again only when no one else can take it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field


@dataclass
class OperatorLoad:
    """What the policy needs to know of one operator."""

    key_id: str
    capacity: int
    held: set[str] = field(default_factory=set)
    last_assigned: float = 0.0

    @property
    def free(self) -> int:
        return self.capacity - len(self.held)


def choose_operator(
    candidates: Iterable[OperatorLoad],
    conversation_owner: str | None,
    declined_by: set[str],
) -> OperatorLoad | None:
    """The operator to assign to, or None when no one has a free slot."""
    available = [op for op in candidates if op.free > 0]
    if not available:
        return None
    for op in available:
        if op.key_id == conversation_owner and op.key_id not in declined_by:
            return op
    willing = [op for op in available if op.key_id not in declined_by] or available
    return min(willing, key=lambda op: (len(op.held) / op.capacity, op.last_assigned))
